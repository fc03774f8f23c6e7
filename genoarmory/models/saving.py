"""Model folders GenoArmory writes (train, defend, the embedded tiny models), in HF layout with
safetensors, that load again on their own: `AutoModelForSequenceClassification.from_pretrained(folder)`
(plus `trust_remote_code=True` for a remote-code family, whose code is copied in: families/code.py).
"""

from __future__ import annotations

from pathlib import Path

import torch

REMOTE_CODE = "genoarmory_remote_code"  # attribute load.py sets on a model built from remote code


def declare_shared_parameters(model: torch.nn.Module) -> None:
    """Name every parameter reachable under several names (so saved once, as safetensors requires).

    HyenaDNA's filter MLP holds ONE `HyenaSin` module three times, so one `freq` parameter has three
    names; DNABERT-2's MLM ties its decoder to the embeddings in its own code. transformers refuses to
    save such undeclared sharing; listed in `_dynamic_tied_weights_keys`, each is saved under its first
    name, and loading restores it for all (the modules are shared again in the rebuilt model)."""
    first: dict[int, str] = {}
    duplicates = []
    for name, param in model.named_parameters(remove_duplicate=False):
        if id(param) in first:
            duplicates.append(name)
        else:
            first[id(param)] = name
    if duplicates:
        model._dynamic_tied_weights_keys = sorted(set(duplicates) | set(getattr(model, "_dynamic_tied_weights_keys",
                                                                                 None) or []))


def save_pretrained(model: torch.nn.Module, tokenizer, folder: Path) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    declare_shared_parameters(model)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    code = getattr(model, REMOTE_CODE, None)
    if code is not None:
        code.write(folder)
