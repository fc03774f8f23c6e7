"""The embedded tiny models: small BERTs over char / 6-mer / BPE tokens, made here with no network.

Like a real GFM, each is first pre-trained as a masked LM (on the task's training DNA), then fine-tuned
as a classifier. Both are saved in HF layout with safetensors: `model/` loads with
`AutoModelForSequenceClassification` + `AutoTokenizer` and no project code; `mlm/` is the model's own
masked LM, which BERT-Attack uses to propose edits.

Train-and-cache rather than shipping weights: the weights are reproducible from a seed in ~30 s on
2 CPU cores, stay in step with the task generator, and nothing binary enters git.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

from genoarmory.config import cache_dir
from genoarmory.data.example import Task
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.saving import save_pretrained
from genoarmory.models.tiny_tokenizers import TOKENIZATION, build_tiny_tokenizer
from genoarmory.models.training import evaluate, fine_tune

# Bump when the tiny models' training code changes, so cached and shipped weights are not reused.
RECIPE_VERSION = 2
# Weights shipped with the package for the default task (see models/embedded/README.md): used when
# their cache key matches the composed config exactly, so they are what train-and-cache would make.
SHIPPED = Path(__file__).parent / "embedded"


def train_settings(cfg: DictConfig) -> DictConfig:
    """The global `train` settings, the model's own recipe (model.train) on top, and what the user set on
    the command line (`train.epochs=...`) on top of both."""
    merged = OmegaConf.merge(cfg.train, cfg.model.get("train") or {})
    for key in _command_line_train_keys():
        merged[key] = cfg.train[key]
    return merged


def _command_line_train_keys() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    try:
        overrides = HydraConfig.get().overrides.task
    except ValueError:  # composed outside a Hydra run (tests, benchmarks)
        return []
    return [o.split("=", 1)[0].split(".", 1)[1] for o in overrides if o.lstrip("+~").startswith("train.")]


def masked_lm_loss(tokenizer, probability: float = 0.15):
    special = torch.tensor(tokenizer.all_special_ids)

    def loss(model, batch, _labels):
        ids = batch["input_ids"]
        maskable = ~torch.isin(ids, special.to(ids.device))
        chosen = (torch.rand(ids.shape, device=ids.device) < probability) & maskable
        target = torch.where(chosen, ids, torch.full_like(ids, -100))
        inputs = ids.masked_fill(chosen, tokenizer.mask_token_id)
        return model(input_ids=inputs, attention_mask=batch["attention_mask"], labels=target).loss

    return loss


def compositional_embeddings(model, tokenizer, seed: int) -> None:
    """Initialise each DNA token's embedding as the sum of per-offset nucleotide vectors.

    With 4,096 6-mers (or a BPE vocabulary) and a few thousand training sequences, most token embeddings
    would see a handful of updates; starting from their composition lets the tiny model read motifs that
    straddle token boundaries after a few epochs. Plain embeddings afterwards: HF loads it as usual.
    """
    emb = model.get_input_embeddings().weight
    vocab = tokenizer.get_vocab()
    width = max((len(t) for t in vocab if t and set(t) <= set("ACGTN")), default=1)
    gen = torch.Generator().manual_seed(seed)
    per_offset = torch.randn(width, 5, emb.shape[1], generator=gen) * (0.02 / width ** 0.5)
    with torch.no_grad():
        for token, i in vocab.items():
            if token and set(token) <= set("ACGTN"):
                emb[i] = sum(per_offset[j, "ACGTN".index(b)] for j, b in enumerate(token)) * (width ** 0.5)


def tiny_encoder(tokenizer, model_cfg: DictConfig, too_long: str = "error") -> SequenceEncoder:
    return SequenceEncoder(tokenizer, TOKENIZATION[model_cfg.tokenizer], int(model_cfg.max_length), too_long)


def train_tiny(cfg: DictConfig, task: Task, out_dir: Path, device: torch.device) -> dict:
    """MLM warm-up then classifier fine-tuning; writes out_dir/{model,mlm,metrics.json}."""
    m = cfg.model
    tcfg = train_settings(cfg)
    train = task.split("train")
    if tcfg.get("max_train"):
        train = train[: int(tcfg.max_train)]
    tokenizer = build_tiny_tokenizer(m.tokenizer, (e.sequence for e in train), int(m.max_length),
                                     int(m.get("bpe_vocab_size", 256)))
    encoder = tiny_encoder(tokenizer, m)
    config = BertConfig(vocab_size=len(tokenizer), max_position_embeddings=int(m.max_length), type_vocab_size=1,
                        pad_token_id=tokenizer.pad_token_id, num_labels=task.num_labels, **m.arch)
    torch.manual_seed(int(cfg.seed))
    started = time.perf_counter()
    mlm = BertForMaskedLM(config)
    compositional_embeddings(mlm, tokenizer, int(cfg.seed))
    if int(m.pretrain_mlm_epochs) > 0:
        mlm_cfg = OmegaConf.merge(tcfg, {"epochs": int(m.pretrain_mlm_epochs)})
        fine_tune(mlm, encoder, train, mlm_cfg, device, int(cfg.seed), loss_fn=masked_lm_loss(tokenizer),
                  desc="MLM warm-up", progress=bool(cfg.progress))
    model = BertForSequenceClassification(config)
    model.bert.load_state_dict(mlm.bert.state_dict(), strict=False)  # the pooler is new
    history = fine_tune(model, encoder, train, tcfg, device, int(cfg.seed), dev=task.split("dev"),
                        desc="fine-tune", progress=bool(cfg.progress))
    metrics = {**evaluate(model, encoder, task.split("test"), device),
               "train_seconds": round(time.perf_counter() - started, 2), "cache_key": cache_key(cfg),
               "device": str(device), **history}
    save_pretrained(model, tokenizer, out_dir / "model")
    save_pretrained(mlm, tokenizer, out_dir / "mlm")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def cache_key(cfg: DictConfig) -> str:
    relevant = {
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "dataset": {"name": cfg.dataset.name, "loader": OmegaConf.to_container(cfg.dataset.loader, resolve=True)},
        "train": OmegaConf.to_container(cfg.train, resolve=True),
        "seed": int(cfg.seed), "policy": cfg.sequence.policy, "recipe": RECIPE_VERSION,
    }
    relevant["model"].pop("path", None)
    relevant["model"].pop("quantize", None)
    relevant["model"].pop("compile", None)  # how queries run on CUDA, not what is trained
    relevant["model"].pop("rc", None)  # how the trained model is scored, not what is trained
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


def cached_tiny_model(cfg: DictConfig, task: Task, device: torch.device) -> Path:
    """Folder holding model/ and mlm/ for (model, dataset, train settings); trained on first use.

    One builder per cache entry: processes wanting the same entry (a sweep's jobs) take its lock in turn,
    and the second finds the first one's model. The entry is built in a staging folder beside it and
    renamed into place when complete; what a killed build left behind is swept by the next build of the
    same entry (under the lock, so never a live build's folder)."""
    from filelock import FileLock

    from genoarmory.config import safe_part, safe_parts
    from genoarmory.results.files import staged_folder

    root = cache_dir(cfg) / "tiny"
    name = "-".join([safe_part(cfg.model.name, "model.name"), *safe_parts(cfg.dataset.name, "dataset.name"),
                     cache_key(cfg)])
    for folder in (SHIPPED / name, root / name):
        if (folder / "metrics.json").exists():
            return folder
    folder = root / name
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{name}.lock")):
        if (folder / "metrics.json").exists():  # built by another process while this one waited
            return folder
        print(f"genoarmory: training embedded model {cfg.model.name} on {cfg.dataset.name} "
              f"(first use; cached in {folder})", flush=True)
        with staged_folder(folder, overwrite=True) as staging:  # overwrite: an entry without metrics is unfinished
            metrics = train_tiny(cfg, task, staging, device)
    print(f"genoarmory: {cfg.model.name} test accuracy {metrics['accuracy']:.3f}, MCC {metrics['mcc']:.3f} "
          f"({metrics['train_seconds']:.0f} s)", flush=True)
    return folder
