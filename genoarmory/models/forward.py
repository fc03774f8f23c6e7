"""How a batch reaches a classifier's forward: only the inputs it accepts, and input embeddings through
the path its own code supports (gradient attacks, FreeLB).

Two paths for input embeddings:
- `inputs_embeds`: the forward takes them in place of its embedding lookup (HF BERT, ESM, ...);
- `hook`: the forward is called with the token ids, and a forward hook on the input-embedding layer
  returns the given embeddings in place of that layer's lookup of exactly those ids — for forwards that
  take no `inputs_embeds`, drop them (DNABERT-2), or read the ids for more than the lookup (HyenaDNA
  pools the token before the first pad; models/families says which). Everything after the lookup (token
  type embeddings, layer norm, masks, pooling) is the model's own code either way. The hook replaces
  only the lookup of the ids tensor passed in, so a wrapper that embeds other ids (ADFAR's randomised
  rows) gets their real embeddings; a hook that never fired is an error, not a silent plain forward.
"""

from __future__ import annotations

import inspect

import torch

from genoarmory.models.families import family_of


def accepted_inputs(model: torch.nn.Module, batch: dict) -> dict:
    """The entries of `batch` that `model.forward` takes (HyenaDNA's takes no attention_mask)."""
    params = inspect.signature(model.forward).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return dict(batch)
    return {k: v for k, v in batch.items() if k in params}


def last_hidden_states(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    """[n, T, d]: the last hidden states of a classifier's encoder (`model.base_model`). DNABERT-2's
    `BertModel` returns a tuple (states, pooled) and HyenaDNA's takes no attention mask."""
    base = model.base_model
    return _states_of(base(**accepted_inputs(base, batch)))


def _states_of(out) -> torch.Tensor:
    """The last hidden states in what an encoder returns: a tensor, an output with `last_hidden_state`, or a
    tuple whose first item they are (DNABERT-2's BertModel)."""
    if torch.is_tensor(out):
        return out
    states = getattr(out, "last_hidden_state", None)
    return states if states is not None else out[0]


def logits_and_last_hidden_states(model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass of a classifier: its logits and the last hidden states `last_hidden_states` gives ([n, T, d]).
    A module may compute both itself (`logits_and_states`: DNABERT-2's padded query path); otherwise a forward
    hook on `model.base_model` keeps what the encoder returned on its way to the head. The hook is added and
    removed around the call, so no other thread may run `model` meanwhile (Victim.logits_and_states runs a
    twin of the query model that the launcher thread never runs)."""
    own = getattr(model, "logits_and_states", None)
    if own is not None:
        return own(**accepted_inputs(model, batch))
    kept = []
    handle = model.base_model.register_forward_hook(lambda _module, _args, out: kept.append(out))
    try:
        logits = model(**accepted_inputs(model, batch)).logits
    finally:
        handle.remove()
    if len(kept) != 1:
        raise RuntimeError(f"{type(model).__name__}: its encoder ran {len(kept)} times in one forward pass")
    return logits, _states_of(kept[0])


def embedding_path(model: torch.nn.Module) -> str:
    """'inputs_embeds' or 'hook' (see the module docstring)."""
    family = family_of(model.config)
    if family is not None and family.embeds_through_hook:
        return "hook"
    return "inputs_embeds" if "inputs_embeds" in inspect.signature(model.forward).parameters else "hook"


def forward_from_embeddings(model: torch.nn.Module, embeds: torch.Tensor, input_ids: torch.Tensor | None,
                            attention_mask: torch.Tensor | None, path: str | None = None) -> torch.Tensor:
    """Logits of `model` run from `embeds` [n, T, d] (the embedding of `input_ids`, perturbed)."""
    path = path or embedding_path(model)
    mask = accepted_inputs(model, {"attention_mask": attention_mask}) if attention_mask is not None else {}
    if path == "inputs_embeds":
        return model(inputs_embeds=embeds, **mask).logits
    if input_ids is None:
        raise ValueError(f"{type(model).__name__} takes input embeddings through its embedding layer: "
                         "pass the token ids they embed")
    fired = []

    def replace(_module, args, output):
        if args and args[0] is input_ids:
            fired.append(True)
            return embeds
        return None

    handle = model.get_input_embeddings().register_forward_hook(replace)
    try:
        logits = model(input_ids=input_ids, **mask).logits
    finally:
        handle.remove()
    if not fired:
        raise RuntimeError(f"{type(model).__name__}: the input-embedding hook never saw the ids passed in; "
                           "its forward embeds something else")
    return logits
