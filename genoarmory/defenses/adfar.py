"""ADFAR (Bao et al., Findings of ACL 2021): an adversarial-detection head trained jointly with the
task, plus frequency-aware randomisation (far.py) of inputs the detector flags.

Training (multi-task, on clean + self-made adversarial training examples, as AT makes them):
  task CE on the input + task CE on its randomised version (both with the true label)
  + detection BCE (clean 0 / adversarial 1, class-balanced) on the un-randomised input.
The detector is a linear layer on the mean-pooled last hidden state, so it fits every family with
any number of classes (the paper's code hard-coded two classes and BERT's pooler).

Inference (`AdfarClassifier.forward`): detect; flagged inputs are randomised and classified again;
the task head decides in both cases.

Saved as: run_dir/model = the multi-task-trained classifier in plain HF layout (it loads with
transformers alone and is the task head), plus `adfar_head.safetensors` (detector weights, synonym
and rarity tables), `adfar.json` and `genoarmory_wrapper.json` (naming this wrapper) beside it.
`load_victim` finds the wrapper's name there and wraps the classifier in `AdfarClassifier`, so `attack model.path=<run>/model` attacks the whole defense — the
detector and the randomisation included — not just the task head. Why not bake it into the HF model:
the conditional randomisation is code, and a checkpoint that ships code needs trust_remote_code.

Gradient attacks that feed inputs_embeds get detection but no randomisation (there are no token ids
to randomise): they see the task head directly, the white-box view.
"""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from genoarmory.data import Example
from genoarmory.defenses.common import Defended, DefenseContext, adversarial_examples, clean_examples, train_config
from genoarmory.defenses.far import FrequencyRandomiser
from genoarmory.errors import UserError
from genoarmory.models.wrappers import register_wrapper, write_wrapper_file
from genoarmory.models.training import fine_tune

WRAPPER = "adfar"
HEAD_FILE = "adfar_head.safetensors"
SETTINGS_FILE = "adfar.json"


class AdfarClassifier(torch.nn.Module):
    """An HF sequence classifier + detection head + randomiser, with the classifier's interface
    (`config`, `get_input_embeddings`, `base_model`, `forward(...).logits`) for `Victim`."""

    def __init__(self, classifier: torch.nn.Module, detector: torch.nn.Linear, randomiser: FrequencyRandomiser,
                 threshold: float = 0.5, salt: int = 0):
        super().__init__()
        self.classifier, self.detector, self.randomiser = classifier, detector, randomiser
        self.threshold, self.salt = float(threshold), int(salt)
        self._takes_mask = "attention_mask" in inspect.signature(classifier.forward).parameters

    @property
    def config(self):
        return self.classifier.config

    @property
    def base_model(self):
        return self.classifier.base_model

    def get_input_embeddings(self):
        return self.classifier.get_input_embeddings()

    def run(self, input_ids=None, attention_mask=None, inputs_embeds=None, hidden: bool = False):
        kwargs = {"input_ids": input_ids} if inputs_embeds is None else {"inputs_embeds": inputs_embeds}
        if self._takes_mask and attention_mask is not None:
            kwargs["attention_mask"] = attention_mask
        return self.classifier(**kwargs, output_hidden_states=hidden)

    def detect_logits(self, out, attention_mask) -> torch.Tensor:
        states = out.hidden_states
        if states is None:
            raise UserError(f"ADFAR needs hidden states, which {type(self.classifier).__name__} does not return")
        last = states[-1] if isinstance(states, (tuple, list)) else states
        mask = attention_mask.unsqueeze(-1).to(last.dtype)
        pooled = (last * mask).sum(1) / mask.sum(1).clamp_min(1)
        return self.detector(pooled.float()).squeeze(-1)  # float in: the detector may be int8-quantized

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, **_):
        if attention_mask is None:
            ref = input_ids if inputs_embeds is None else inputs_embeds[..., 0]
            attention_mask = torch.ones(ref.shape[:2], dtype=torch.long, device=ref.device)
        out = self.run(input_ids, attention_mask, inputs_embeds, hidden=True)
        logits = out.logits
        flagged = torch.sigmoid(self.detect_logits(out, attention_mask).float()) > self.threshold
        if input_ids is not None and bool(flagged.any()):
            rows = flagged.nonzero().squeeze(1)
            randomised = self.randomiser(input_ids[rows], attention_mask[rows], self.salt)
            logits = logits.clone()
            logits[rows] = self.run(randomised, attention_mask[rows]).logits.to(logits.dtype)
        return SequenceClassifierOutput(logits=logits)

    def save_head(self, folder: Path) -> None:
        from safetensors.torch import save_file

        tensors = {"detector.weight": self.detector.weight.detach().float().cpu().contiguous(),
                   "detector.bias": self.detector.bias.detach().float().cpu().contiguous(),
                   **self.randomiser.tensors()}
        save_file(tensors, str(folder / HEAD_FILE))
        settings = {"threshold": self.threshold, "salt": self.salt, "ratio": self.randomiser.ratio,
                    "hidden_size": self.detector.in_features}
        (folder / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))
        write_wrapper_file(folder, WRAPPER)


def wrap_saved(classifier: torch.nn.Module, folder: Path) -> AdfarClassifier:
    """The defended model of an ADFAR folder (registered as its wrapper: load_victim applies it)."""
    from safetensors.torch import load_file

    try:
        settings = json.loads((folder / SETTINGS_FILE).read_text())
        tensors = load_file(str(folder / HEAD_FILE))
    except (OSError, ValueError) as err:
        raise UserError(f"broken ADFAR head ({err})", str(folder)) from None
    detector = torch.nn.Linear(int(settings["hidden_size"]), 1)
    detector.load_state_dict({"weight": tensors["detector.weight"], "bias": tensors["detector.bias"]})
    randomiser = FrequencyRandomiser(tensors["synonyms"].numpy(), tensors["rare"].numpy(), settings["ratio"])
    return AdfarClassifier(classifier, detector.to(next(classifier.parameters()).device), randomiser,
                           settings["threshold"], settings["salt"]).eval()


def adfar_loss(num_labels: int, pos_weight: float):
    """Labels arrive as class + num_labels * is_adversarial: the loop carries one integer per example."""
    def loss(model: AdfarClassifier, batch, labels):
        y, adversarial = labels % num_labels, (labels // num_labels).float()
        mask = batch["attention_mask"]
        out = model.run(batch["input_ids"], mask, hidden=True)
        salt = int(torch.randint(0, 2 ** 31 - 1, (1,)))  # fresh randomisation every step while training
        randomised = model.run(model.randomiser(batch["input_ids"], mask, salt), mask).logits
        task = (torch.nn.functional.cross_entropy(out.logits, y) + torch.nn.functional.cross_entropy(randomised, y)) / 2
        weight = torch.tensor(pos_weight, device=labels.device)
        detection = torch.nn.functional.binary_cross_entropy_with_logits(
            model.detect_logits(out, mask).float(), adversarial, pos_weight=weight)
        return task + detection

    return loss


@torch.no_grad()  # not inference_mode: see Victim._launch
def flag_rate(model: AdfarClassifier, encoder, sequences: list[str], device, batch: int = 256) -> float:
    """Fraction of `sequences` the detector flags as adversarial."""
    model.eval()
    flagged = 0
    for i in range(0, len(sequences), batch):
        enc = encoder.encode(sequences[i:i + batch], device)
        out = model.run(enc["input_ids"], enc["attention_mask"], hidden=True)
        flagged += int((torch.sigmoid(model.detect_logits(out, enc["attention_mask"]).float()) > model.threshold).sum())
    return flagged / max(1, len(sequences))


def train(ctx: DefenseContext) -> Defended:
    d = ctx.cfg.defense
    started = time.perf_counter()
    clean = clean_examples(ctx)
    randomiser = FrequencyRandomiser.build(ctx.model.get_input_embeddings().weight, ctx.tokenizer, ctx.encoder,
                                           [e.sequence for e in clean], float(d.ratio), int(d.syn_num),
                                           float(d.syn_threshold), int(d.most_freq), float(d.rare_below))
    adversarial, stats = adversarial_examples(ctx, ctx.model, ctx.run_dir / "adfar-train")
    probe = ctx.encoder.encode([clean[0].sequence], ctx.device)
    with torch.no_grad():
        width = AdfarClassifier(ctx.model, torch.nn.Linear(1, 1), randomiser).run(**probe, hidden=True)
    states = width.hidden_states
    hidden = (states[-1] if isinstance(states, (tuple, list)) else states).shape[-1]
    model = AdfarClassifier(ctx.model, torch.nn.Linear(hidden, 1), randomiser, float(d.threshold), ctx.seed)
    c = ctx.task.num_labels
    data = clean + [Example(e.id, e.sequence, e.label + c, e.meta) for e in adversarial]
    pos_weight = len(clean) / max(1, len(adversarial))  # balanced detector: 0.5 means equal error costs
    history = fine_tune(model, ctx.encoder, data, train_config(ctx.cfg), ctx.device, ctx.seed, dev=ctx.dev,
                        loss_fn=adfar_loss(c, pos_weight), desc="ADFAR", progress=ctx.progress)
    rates = {"flagged_clean_dev": flag_rate(model, ctx.encoder, [e.sequence for e in ctx.dev or []], ctx.device),
             "flagged_adversarial_train": flag_rate(model, ctx.encoder, [e.sequence for e in adversarial], ctx.device)}
    info = {"clean": len(clean), **stats, **history, **rates,
            "rare_tokens": int(randomiser.rare.sum()), "tokens_with_synonyms": int((randomiser.n_syn > 0).sum()),
            "train_seconds": round(time.perf_counter() - started, 2)}
    return Defended(model.classifier, info, save_extra=model.save_head)


register_wrapper(WRAPPER, wrap_saved)
