"""Any `torch.nn.Module` classifier seen as a Hugging Face one, so `genoarmory.Victim.wrap` can attack it.

The victim (models/victim.py) calls `model(input_ids=..., attention_mask=...)`, reads `.logits`,
`config.num_labels`, `get_input_embeddings()` and (TextFooler) `base_model`. A plain module that maps token ids [n, T] to logits
[n, C] (a tensor, a tuple whose first item is the logits, or an object with `.logits`) gets those here;
its attention mask is passed only when its forward takes one.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from genoarmory.errors import UserError


def _logits(out) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if getattr(out, "logits", None) is not None:
        return out.logits
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise UserError(f"the wrapped model returned {type(out).__name__}; it must return logits [batch, classes] "
                    "(a tensor, a tuple starting with them, or an object with .logits)")


class ModuleClassifier(torch.nn.Module):
    def __init__(self, module: torch.nn.Module, num_labels: int):
        super().__init__()
        self.module = module
        self.config = SimpleNamespace(num_labels=int(num_labels), pad_token_id=None, auto_map=None,
                                      architectures=[type(module).__name__])
        params = inspect.signature(module.forward).parameters
        self._mask = "attention_mask" in params
        self._embeds = "inputs_embeds" in params

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None) -> SequenceClassifierOutput:
        kwargs = {"attention_mask": attention_mask} if self._mask and attention_mask is not None else {}
        if inputs_embeds is not None:
            if not self._embeds:
                raise UserError("the wrapped model's forward takes no inputs_embeds: gradient attacks (pgd, fimba) "
                                "need one; use attack=bertattack|textfooler|random")
            return SequenceClassifierOutput(logits=_logits(self.module(inputs_embeds=inputs_embeds, **kwargs)))
        return SequenceClassifierOutput(logits=_logits(self.module(input_ids, **kwargs)))

    @property
    def base_model(self) -> torch.nn.Module:
        """The encoder whose hidden states TextFooler's similarity filter reads: a Hugging Face model inside the
        wrapped module (its `base_model`), when it holds one."""
        for module in self.module.modules():  # the wrapped module first, then what it holds
            base = getattr(module, "base_model", None)
            if isinstance(base, torch.nn.Module):
                return base
        raise UserError("the wrapped model holds no Hugging Face encoder (base_model), whose hidden states "
                        "TextFooler's similarity filter reads: use attack=bertattack|random, or wrap an HF classifier")

    def get_input_embeddings(self) -> torch.nn.Module:
        own = getattr(self.module, "get_input_embeddings", None)
        if own is not None:
            return own()
        found = next((m for m in self.module.modules() if isinstance(m, torch.nn.Embedding)), None)
        if found is None:
            raise UserError("the wrapped model has no torch.nn.Embedding: this attack needs its input embeddings")
        return found


def as_classifier(model: torch.nn.Module, probe_ids: torch.Tensor) -> torch.nn.Module:
    """`model` itself when it is a Hugging Face classifier, else a ModuleClassifier whose label count is read
    from one forward pass on `probe_ids`."""
    if not isinstance(model, torch.nn.Module):
        raise UserError(f"Victim.wrap needs a torch.nn.Module, not {type(model).__name__}")
    if getattr(getattr(model, "config", None), "num_labels", None) is not None:
        return model
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad():  # not inference_mode: see Victim._launch
        logits = _logits(model.eval()(probe_ids.to(device)))
    if logits.dim() != 2 or logits.shape[-1] < 2:
        raise UserError(f"the wrapped model gives logits of shape {tuple(logits.shape)}; expected [batch, classes>=2]")
    return ModuleClassifier(model, logits.shape[-1])
