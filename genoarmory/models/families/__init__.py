"""Remote-code families: what the code DNABERT-2 and HyenaDNA ship changes in how GenoArmory runs them.

A family is recognised by the class its config's `auto_map` names for sequence classification (the
module and class, whichever repository or folder holds them). What each one's code implies, read from
that code (../shared/fixtures/hf/*-remote-code):

- DNABERT-2 (MosaicBERT, `bert_layers.py`): pads on the right and reads the attention mask (it unpads
  the batch); its `BertModel.forward` swallows `inputs_embeds` in `**kwargs` and embeds `input_ids`
  anyway, so input embeddings reach it through a hook on the embedding layer (models/forward.py);
  ALiBi attention biases grow on demand beyond `alibi_starting_size` (a plain attribute, rebuilt on
  the input's device); attention runs through a Triton kernel when `triton` imports, which
  `dnabert2.select_attention` keeps only on CUDA and only when it compiles and agrees with PyTorch.
  Its unpadding synchronises host and device ~13 times a forward pass, so bf16 queries on CUDA run its
  own layers on the padded batch instead (`query_module`, dnabert2_padded.py); its debug `print` per
  layer is silenced (`dnabert2.quiet_debug_print`).
- HyenaDNA (`modeling_hyena.py`): causal long convolutions, no attention mask, and the classifier pools
  the token before the first pad it finds in `input_ids`. Its tokenizer pads on the left by default,
  which puts pads BEFORE the sequence where the causal filters read them (a prediction would depend on
  the longest sequence in its batch); padded on the right, the pads come after the last real token and
  change nothing it sees. So the encoder pads HyenaDNA on the right. Given `inputs_embeds` it pools the
  last position (a pad, in a padded batch), so it too takes input embeddings through the hook.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Family:
    name: str
    classifier: str            # "module.Class" of auto_map's AutoModelForSequenceClassification
    embeds_through_hook: bool  # its forward drops inputs_embeds or needs the ids beside them
    padding_side: str | None   # the side its code needs, when that is not the tokenizer's default


DNABERT2 = Family("dnabert2", "bert_layers.BertForSequenceClassification", True, None)
HYENADNA = Family("hyenadna", "modeling_hyena.HyenaDNAForSequenceClassification", True, "right")
FAMILIES = (DNABERT2, HYENADNA)


def family_of(config) -> Family | None:
    """The family of a config (a PretrainedConfig or a config.json dict); None for built-in architectures."""
    auto_map = config.get("auto_map") if isinstance(config, dict) else getattr(config, "auto_map", None)
    entry = (auto_map or {}).get("AutoModelForSequenceClassification")
    if not isinstance(entry, str):
        return None
    reference = entry.rpartition("--")[2]
    return next((f for f in FAMILIES if f.classifier == reference), None)


def adapt(model: torch.nn.Module, tokenizer, device: torch.device) -> None:
    """Apply what a family's code needs to a freshly loaded classifier and its tokenizer, in place."""
    family = family_of(model.config)
    if family is None:
        return
    if family.padding_side is not None:
        tokenizer.padding_side = family.padding_side
    if family is DNABERT2:
        from genoarmory.models.families.dnabert2 import quiet_debug_print, select_attention

        quiet_debug_print(model)
        select_attention(model, torch.device(device))


def query_module(model: torch.nn.Module) -> torch.nn.Module:
    """What the victim's bf16 queries on CUDA run through: `model` itself, or for DNABERT-2's own
    classifier (exactly that class, not a wrapper around it) the same layers on the padded batch, without
    the host synchronisations of its unpadding (families/dnabert2_padded.py)."""
    if family_of(model.config) is DNABERT2 and type(model).__name__ == DNABERT2.classifier.rpartition(".")[2]:
        from genoarmory.models.families.dnabert2_padded import PaddedDnabert2

        return PaddedDnabert2(model)
    return model
