"""The benchmark victims, shared by benchmarks/gpu_*.py: random weights, real architectures and sizes.

- `nt2-500m`: Nucleotide Transformer v2 500M as HF's Esm (29 x 1024, rotary, 6-mer vocabulary of 4107);
  HF's Esm has a plain GELU feed-forward where NT v2's is gated (~0.37 B parameters instead of ~0.49 B).
- `nt1-500m`: Nucleotide Transformer v1 500M human-ref as HF's Esm (24 x 1280, learned absolute positions,
  the same 6-mer vocabulary; NT v1 is plain Esm in transformers, so this is its architecture).
- `dnabert2`: DNABERT-2 117M through ITS OWN remote code (MosaicBERT: ALiBi, gated FFN, unpadded attention,
  Triton flash attention on CUDA when it compiles), built by models/families/checkpoints.py from
  ../shared/fixtures/hf/dnabert2-117m-remote-code with the real DNABERT-2 BPE tokenizer, loaded with
  `trust_remote_code=True` exactly as a user loads the hub repository. BERT-Attack's MLM is that same
  checkpoint (DNABERT-2-117M is a masked LM).
- `dnabert2-standin`: HF's plain BERT 12 x 768 with the DNABERT-2 tokenizer (what earlier runs measured).
- `genomeocean-100m`: Mistral 12 x 768, 12 heads / 4 KV heads, with the DNABERT-2 BPE tokenizer (we do not
  have GenomeOcean's; same vocabulary size); BERT-Attack takes the standin-size BERT MLM on that tokenizer.
- `hyenadna-small`: HyenaDNA-small-32k through its own code (d_model 256, 4 layers), character tokenizer;
  attacked on random sequences of `--length` nt (no GUE task is that long).

A random classifier puts every sequence at nearly the same logits, so the head is shifted and scaled once
(`centre_head`: median clean margin 0, spread 1) and each example's label is set to the model's clean
prediction: every example is attacked. Config composition is the CLI's (genoarmory/testing.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genoarmory.data.csv_tasks import read_labelled_csv
from genoarmory.data.example import Example
from genoarmory.data.select import select_examples
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.victim import Victim
from genoarmory.testing import compose

REPO = Path(__file__).resolve().parents[1]
CARRY = REPO / ".carry"
SHARED = Path(os.environ.get("GENOARMORY_SHARED") or REPO.parent / "shared")
KMERS = ["".join(p) for p in itertools.product("ACGT", repeat=6)]
NT_VOCAB = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"] + KMERS + list("ATCGN")  # NT v2: 4107 tokens
H200_BF16_FLOPS = 790e12  # dense bf16 matrix rate measured on this workplace's H200 (KINDS.md)

# name -> (architecture, model config group, task attacked, tokenization)
VICTIMS = {
    "nt2-500m": ("esm", "nt2-500m", "prom/prom_300_tata", "kmer"),
    "nt1-500m": ("esm1", "nt1-500m", "prom/prom_300_tata", "kmer"),
    "dnabert2": ("dnabert2", "dnabert2", "tf/0", "bpe"),
    "dnabert2-standin": ("bert", "dnabert2", "tf/0", "bpe"),
    "genomeocean-100m": ("mistral", "genomeocean-100m", "prom/prom_core_all", "bpe"),
    "hyenadna-small": ("hyenadna", "hyenadna-small", None, "char"),
}
SIZES = {
    "esm": {"real": dict(hidden_size=1024, num_hidden_layers=29, num_attention_heads=16, intermediate_size=4096),
            "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)},
    # NT v1 500M human-ref: 24 x 1280, learned absolute positions (1002), no rotary
    "esm1": {"real": dict(hidden_size=1280, num_hidden_layers=24, num_attention_heads=20, intermediate_size=5120),
             "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)},
    "bert": {"real": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
             "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)},
    "mistral": {"real": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
                             intermediate_size=3072),
                "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                             intermediate_size=64)},
    "dnabert2": {"real": {}, "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                          intermediate_size=64)},
    "hyenadna": {"real": {}, "tiny": dict(d_model=32, n_layer=2, d_inner=64)},
}
# NT v2 (esm) is rotary; NT v1 (esm1) has learned absolute positions for its 1,000 tokens
ESM_POSITIONS = {"esm": dict(max_position_embeddings=2050, position_embedding_type="rotary"),
                 "esm1": dict(max_position_embeddings=1002, position_embedding_type="absolute")}
REMOTE_CODE = {"dnabert2": "fixtures/hf/dnabert2-117m-remote-code",
               "hyenadna": "fixtures/hf/hyenadna-small-32k-remote-code"}


def code_folder(arch: str) -> Path:
    """A family's remote code: carried in .carry/hf on the GPU machine, else ../shared/fixtures/hf."""
    carried = CARRY / "hf" / Path(REMOTE_CODE[arch]).name
    return carried if carried.is_dir() else SHARED / REMOTE_CODE[arch]


def dnabert2_tokenizer_folder() -> Path:
    carried = CARRY / "hf" / "dnabert2-tokenizer"
    return carried if carried.is_dir() else SHARED / "fixtures/hf/dnabert2-117m-config"


@dataclass
class Bench:
    """One benchmark victim: the `Victim`, its model config group, task, MLM folder (BERT-Attack) and sizes."""

    name: str
    arch: str
    victim: Victim
    group: str
    task: str | None
    mlm_dir: Path | None
    parameters: int
    non_embedding_parameters: int
    folder: Path | None = None  # the checkpoint folder of a remote-code victim
    extra_overrides: tuple = ()  # config overrides the victim needs (model.path, trust_remote_code)

    def mfu(self, tokens: float, queries_per_s: float) -> float:
        """Model FLOP utilisation: 2 x non-embedding parameters x tokens per query x queries/s over the
        H200's measured dense bf16 rate (attention's own FLOPs, small at these lengths, not counted)."""
        return 2 * self.non_embedding_parameters * tokens * queries_per_s / H200_BF16_FLOPS


def parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def non_embedding_parameters(model) -> int:
    skip = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in skip)


def nt_tokenizer(folder: Path):
    from transformers import EsmTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(NT_VOCAB))
    return EsmTokenizer(str(folder / "vocab.txt"), model_max_length=2048)


def builtin_models(arch: str, scale: str, tokenizer, device: torch.device, attn: str = "sdpa"):
    """(classifier, MLM or None) of a built-in HF architecture, random weights, created on `device`."""
    from transformers import (BertConfig, BertForMaskedLM, BertForSequenceClassification, EsmConfig,
                              EsmForMaskedLM, EsmForSequenceClassification, MistralConfig,
                              MistralForSequenceClassification)

    size = SIZES[arch][scale]
    torch.manual_seed(0)
    with torch.device(device):
        if arch in ESM_POSITIONS:
            cfg = EsmConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                            mask_token_id=tokenizer.mask_token_id, **ESM_POSITIONS[arch], token_dropout=False,
                            num_labels=2, attn_implementation=attn, **size)
            return EsmForSequenceClassification(cfg), EsmForMaskedLM(cfg)
        if arch == "bert":
            cfg = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                             max_position_embeddings=512, num_labels=2, attn_implementation=attn, **size)
            return BertForSequenceClassification(cfg), BertForMaskedLM(cfg)
        cfg = MistralConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                            max_position_embeddings=1024, sliding_window=None, num_labels=2,
                            attn_implementation=attn, **size)
        return MistralForSequenceClassification(cfg), None


def eager_twin(model):
    """The same weights with HF's eager attention (the ceiling's first reading), or None where the model
    is remote code with its own attention."""
    if getattr(model.config, "auto_map", None):
        return None
    twin = type(model)._from_config(model.config, attn_implementation="eager")
    state = model.state_dict()
    if "score.bias" in state:  # centre_head gave Mistral's head a bias
        classification_head(twin)
    twin.load_state_dict(state)
    return twin.to(next(model.parameters()).device).eval()


def save_folder(model, tokenizer, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def build(name: str, scale: str, device: torch.device, work: Path, compile: bool | str = False) -> Bench:
    """The victim `name` on `device` (`compile`: model.compile, models/compiled.py)."""
    from transformers import AutoTokenizer

    arch, group, task, tokenization = VICTIMS[name]
    extra: tuple = ()
    folder = None
    if arch in REMOTE_CODE:
        from genoarmory.models.families.checkpoints import build_dnabert2, build_hyenadna
        from genoarmory.models.load import load_classifier

        builder = build_dnabert2 if arch == "dnabert2" else build_hyenadna
        sizes = dict(SIZES[arch][scale])
        if arch == "hyenadna":
            builder_kwargs = dict(padding_side="left")
        else:
            builder_kwargs = {}
        folder = builder(code_folder(arch), work / f"{name}-{scale}", **builder_kwargs, **sizes)
        model, tokenizer = load_classifier(folder, 2, trust_remote_code=True, device=device)
        mlm_dir = folder if arch == "dnabert2" else None
        extra = (f"model.path={folder}", "model.trust_remote_code=true")
    else:
        tokenizer = (nt_tokenizer(work / f"{name}-tokenizer") if arch in ESM_POSITIONS
                     else AutoTokenizer.from_pretrained(dnabert2_tokenizer_folder()))
        model, mlm = builtin_models(arch, scale, tokenizer, device)
        if mlm is None:  # causal LM: BERT-Attack takes a DNABERT-2-size MLM on the same tokenizer
            _, mlm = builtin_models("bert", scale, tokenizer, device)
        mlm_dir = save_folder(mlm.to(torch.bfloat16) if device.type == "cuda" else mlm, tokenizer,
                              work / f"{name}-mlm")
        del mlm
    max_length = 32770 if arch == "hyenadna" else 2048
    victim = Victim(model, SequenceEncoder(tokenizer, tokenization, max_length), name, device, "auto",
                    compile=compile)
    return Bench(name, arch, victim, group, task, mlm_dir, parameters(model), non_embedding_parameters(model),
                 folder, extra)


def arguments(doc: str, victims: str, device: str | None = None):
    """The argument parser every benchmark part starts from: --out, --victims, --scale, --device, --data."""
    import argparse

    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--victims", default=victims, help="comma-separated names of benchmarks/victims.py VICTIMS")
    p.add_argument("--scale", choices=("real", "tiny"), default="real", help="tiny: small widths, same code")
    p.add_argument("--device", default=device or ("cuda" if torch.cuda.is_available() else "cpu"))
    p.add_argument("--data", type=Path, default=CARRY / "gue", help="GUE test splits as <task>/test.csv")
    return p


# -- data ----------------------------------------------------------------------------------------
def load_examples(data_root: Path, task: str, n: int) -> list[Example]:
    return select_examples(read_labelled_csv(data_root / task / "test.csv", "test"), n, seed=0)


def random_examples(n: int, length: int, seed: int = 0) -> list[Example]:
    rng = np.random.default_rng(seed)
    return [Example(f"r{i}", "".join(rng.choice(list("ACGT"), length)), 0, {}) for i in range(n)]


def classification_head(model) -> torch.nn.Linear:
    """The last Linear of the classifier (Mistral's has no bias, so it gets a zero one to be centred)."""
    if hasattr(model, "score") and isinstance(model.score, torch.nn.Linear):  # Mistral, HyenaDNA
        if model.score.bias is None:
            old = model.score
            model.score = torch.nn.Linear(old.in_features, old.out_features, bias=True, device=old.weight.device,
                                          dtype=old.weight.dtype)
            with torch.no_grad():
                model.score.weight.copy_(old.weight)
                model.score.bias.zero_()
        return model.score
    head = model.classifier
    return head.out_proj if hasattr(head, "out_proj") else head  # Esm: dense -> out_proj; BERT: one Linear


@torch.no_grad()
def centre_head(victim: Victim, examples) -> dict:
    """Shift and scale the head once so the clean margin logit1 - logit0 has median 0 and spread 1 over the
    attacked sequences (random weights put everything far from the boundary: ASR 0 would say nothing)."""
    head = classification_head(victim.model)
    logits = torch.cat([victim.logits(chunk, exact=True).float()
                        for chunk in victim.batches([e.sequence for e in examples])])
    margin = (logits[:, 1] - logits[:, 0]).cpu()
    median, spread = float(margin.median()), float(margin.std()) if len(margin) > 1 else 1.0
    spread = spread if spread > 0 else 1.0
    head.bias[1] -= median
    head.weight /= spread
    head.bias /= spread
    return {"margin_median_before": round(median, 6), "margin_std_before": round(spread, 6)}


def relabel_with_clean_predictions(victim: Victim, examples):
    """A random classifier's classes are arbitrary: attack every example away from its clean prediction."""
    probs = victim.predict_proba([e.sequence for e in examples], use_cache=False, exact=True)
    victim.clear_cache()
    return [dataclasses.replace(e, label=int(p.argmax())) for e, p in zip(examples, probs)]


def attacked_examples(bench: Bench, data_root: Path, n: int, length: int | None = None):
    """(examples, head centring): the task's first `n` sequences (random ones of `length` nt for HyenaDNA),
    the head centred on them, each labelled with its clean prediction."""
    examples = random_examples(n, length or 1000) if bench.task is None else load_examples(data_root, bench.task, n)
    centring = centre_head(bench.victim, examples)
    return relabel_with_clean_predictions(bench.victim, examples), centring


def compose_attack(bench: Bench, attack: list[str], device: torch.device, cache: Path, mlm: bool = True):
    over = [f"model={bench.group}", *bench.extra_overrides, *attack, "attack.max_perturb_ratio=0.1",
            f"device={device}", f"cache_dir={cache}", "offline=1"]
    if mlm and bench.mlm_dir is not None:
        over.append(f"attack.mlm={bench.mlm_dir}")
    return compose(over)


# -- timing --------------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextmanager
def measured(victim: Victim):
    """Fresh cache and counters, peak memory reset; yields a dict filled with seconds/queries/peak memory."""
    victim.clear_cache()
    victim.queries, victim.forward_batches = 0, 0
    if victim.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(victim.device)
    sync(victim.device)
    out: dict = {}
    start = time.perf_counter()
    yield out
    sync(victim.device)
    out["seconds"] = time.perf_counter() - start
    out["queries"] = victim.queries
    out["forward_batches"] = victim.forward_batches
    out["peak_gpu_gib"] = (round(torch.cuda.max_memory_allocated(victim.device) / 2**30, 2)
                           if victim.device.type == "cuda" else None)


def versions() -> dict:
    import transformers

    out = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
           "numpy": np.__version__}
    try:
        from importlib.metadata import version

        out["textattack"] = version("textattack")
    except Exception:  # not installed: TextAttack runs are skipped
        out["textattack"] = None
    try:
        import triton

        out["triton"] = triton.__version__
    except ImportError:
        out["triton"] = None
    if torch.cuda.is_available():
        out["cuda"] = torch.version.cuda
    return out
