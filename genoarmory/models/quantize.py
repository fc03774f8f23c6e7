"""Quantization as a victim variant: `model.quantize=int8` (load.py calls `quantize` after loading).

Schemes:
- `int8`: the right int8 for the device — dynamic int8 on CPU, weight-only int8 on CUDA;
- `int8-dynamic`: post-training dynamic int8 of every `nn.Linear` (torch.ao `quantize_dynamic`: int8
  weights, activations quantized on the fly with ONE scale per input tensor). CPU only: its kernels are
  fbgemm / oneDNN. That scale spans the whole batch, so a sequence's prediction would depend on which
  sequences share its batch (measured: 0.4982 cached vs 0.5002 alone, failing the engine's fresh-pass
  self-check). `SequenceBySequence` therefore runs the quantized model one sequence at a time, padding
  trimmed — what a deployed int8 model serving one request computes;
- `int8-weight-only`: int8 weights with one scale per output channel, activations in float. On CUDA
  through torchao when it is installed; otherwise (and on CPU) `Int8WeightOnlyLinear` below, which
  dequantizes in the forward — the same numbers as torchao's int8 weight-only, without its speed.

Input embeddings stay float in every scheme (TextFooler reads them; they are a lookup, not a matmul).
Dynamic int8 has no autograd: a backward pass runs but leaves no gradient on the inputs, so gradient
attacks cannot run on it — `input_gradients(model)` says so, and the weight-only scheme keeps them.
Gradient-free attacks (bertattack, textfooler, random) run on every scheme.
"""

from __future__ import annotations

import inspect
import warnings

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from genoarmory.errors import UserError

SCHEMES = ("int8", "int8-dynamic", "int8-weight-only")


def quantize(model: torch.nn.Module, scheme: str, device: torch.device) -> torch.nn.Module:
    """A quantized copy of `model` for inference on `device` (the scheme is recorded on the model)."""
    scheme = str(scheme).lower()
    if scheme not in SCHEMES:
        raise UserError(f"model.quantize={scheme!r} is not one of {', '.join(SCHEMES)} (or null)")
    device = torch.device(device)
    method = scheme if scheme != "int8" else ("int8-dynamic" if device.type == "cpu" else "int8-weight-only")
    model = model.eval()
    if method == "int8-dynamic":
        if device.type != "cpu":
            raise UserError("model.quantize=int8-dynamic runs on CPU only (fbgemm/oneDNN kernels); "
                            "use model.quantize=int8 (weight-only on CUDA) or device=cpu")
        quantized, backend = SequenceBySequence(dynamic_int8(model)), "torch.ao.quantization.quantize_dynamic"
    else:
        quantized, backend = weight_only_int8(model, device)
    quantized.genoarmory_quantization = {"scheme": scheme, "method": method, "backend": backend,
                                         "input_gradients": method != "int8-dynamic"}
    return quantized


def input_gradients(model: torch.nn.Module) -> bool:
    """Whether gradients reach the inputs (False for dynamic int8, whose kernels have no autograd)."""
    return getattr(model, "genoarmory_quantization", {}).get("input_gradients", True)


def dynamic_int8(model: torch.nn.Module) -> torch.nn.Module:
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch.ao eager quantization is deprecated in favour of torchao, still shipped
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        return quantize_dynamic(model.cpu(), {torch.nn.Linear}, dtype=torch.qint8)


def weight_only_int8(model: torch.nn.Module, device: torch.device) -> tuple[torch.nn.Module, str]:
    if device.type == "cuda":
        try:
            from torchao.quantization import quantize_
        except ImportError:
            pass
        else:
            try:
                from torchao.quantization import Int8WeightOnlyConfig as config  # torchao >= 0.10
            except ImportError:
                from torchao.quantization import int8_weight_only as config
            model = model.to(device)
            quantize_(model, config())
            return model, "torchao"
    replace_linear(model)
    return model.to(device), "genoarmory Int8WeightOnlyLinear"


class Int8WeightOnlyLinear(torch.nn.Module):
    """y = x W^T + b with W stored as int8 and a symmetric float scale per output channel."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        w = linear.weight.detach().float()
        scale = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight_int8", torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8))
        self.register_buffer("scale", scale.to(linear.weight.dtype))
        self.bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach().clone(),
                                                                        requires_grad=False)

    @property
    def weight(self) -> torch.Tensor:
        """The dequantized weight (what the forward multiplies by)."""
        return self.weight_int8.to(self.scale.dtype) * self.scale[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight_int8.to(x.dtype) * self.scale.to(x.dtype)[:, None]
        return torch.nn.functional.linear(x, w, None if self.bias is None else self.bias.to(x.dtype))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weights"


def replace_linear(module: torch.nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, Int8WeightOnlyLinear(child))
        else:
            replace_linear(child)


class SequenceBySequence(torch.nn.Module):
    """A classifier run on one sequence at a time (its padding trimmed), with the classifier's interface
    (`config`, `get_input_embeddings`, `base_model`, `forward(...).logits`) for `Victim`."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.inner = model
        self._takes_mask = "attention_mask" in inspect.signature(model.forward).parameters

    @property
    def config(self):
        return self.inner.config

    @property
    def base_model(self):
        return self.inner.base_model

    def get_input_embeddings(self):
        return self.inner.get_input_embeddings()

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, **_):
        rows = input_ids if inputs_embeds is None else inputs_embeds
        logits = []
        for i in range(rows.shape[0]):
            real = slice(None) if attention_mask is None else attention_mask[i].bool()
            key = "input_ids" if inputs_embeds is None else "inputs_embeds"
            kwargs = {key: rows[i][real][None]}
            if self._takes_mask and attention_mask is not None:
                kwargs["attention_mask"] = attention_mask[i][real][None]
            logits.append(self.inner(**kwargs).logits)
        return SequenceClassifierOutput(logits=torch.cat(logits))
