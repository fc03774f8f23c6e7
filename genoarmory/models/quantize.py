"""Quantization as a victim variant: `model.quantize=int8` (load.py calls `quantize` after loading).

Schemes:
- `int8`: the right int8 for the device — dynamic int8 on CPU, weight-only int8 on CUDA;
- `int8-dynamic`: post-training dynamic int8 of every `nn.Linear`: int8 weights (one scale per output
  channel) and activations quantized on the fly to int8 with one scale PER TOKEN, products summed
  exactly (`Int8DynamicLinear`; the scheme of torchao's int8 dynamic-activation/int8-weight);
- `int8-torch-ao`: torch.ao `quantize_dynamic` (fbgemm/oneDNN kernels, CPU only). Its activation
  scale is one per input TENSOR, i.e. it spans the whole batch, so a sequence's prediction depends on
  which sequences share its batch (measured: 0.4982 in a batch vs 0.5002 alone, which failed the
  engine's fresh-pass self-check). It is therefore run one sequence at a time (`SequenceBySequence`),
  which is faithful but ~100x slower on the tiny models (measured) — hence not the default;
- `int8-weight-only`: int8 weights with one scale per output channel, activations in float. On CUDA
  through torchao when it is installed; otherwise (and on CPU) `Int8WeightOnlyLinear` below, which
  dequantizes in the forward — the same numbers as torchao's int8 weight-only, without its speed.

Input embeddings stay float in every scheme (TextFooler reads them; they are a lookup, not a matmul).
Gradients: `Int8DynamicLinear` passes them straight through its rounding (as BPDA does) and the
weight-only layers are differentiable, so gradient attacks run; torch.ao kernels have no autograd (a
backward leaves no gradient on the inputs) — `input_gradients(model)` says so. Gradient-free attacks
(bertattack, textfooler, random) run on every scheme.
"""

from __future__ import annotations

import inspect
import warnings

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from genoarmory.errors import UserError

SCHEMES = ("int8", "int8-dynamic", "int8-weight-only", "int8-torch-ao")


def quantize(model: torch.nn.Module, scheme: str, device: torch.device) -> torch.nn.Module:
    """`model` quantized for inference on `device` (its Linear layers replaced in place; torch.ao makes a
    copy); the scheme is recorded on the returned model."""
    scheme = str(scheme).lower()
    if scheme not in SCHEMES:
        raise UserError(f"model.quantize={scheme!r} is not one of {', '.join(SCHEMES)} (or null)")
    device = torch.device(device)
    method = scheme if scheme != "int8" else ("int8-dynamic" if device.type == "cpu" else "int8-weight-only")
    model = model.eval()
    if method == "int8-torch-ao":
        if device.type != "cpu":
            raise UserError("model.quantize=int8-torch-ao runs on CPU only (fbgemm/oneDNN kernels); "
                            "use model.quantize=int8 or device=cpu")
        quantized, backend = SequenceBySequence(dynamic_int8(model)), "torch.ao.quantization.quantize_dynamic"
    elif method == "int8-dynamic":
        replace_linear(model, Int8DynamicLinear)
        quantized, backend = model.to(device), "genoarmory Int8DynamicLinear"
    else:
        quantized, backend = weight_only_int8(model, device)
    quantized.genoarmory_quantization = {"scheme": scheme, "method": method, "backend": backend,
                                         "input_gradients": method != "int8-torch-ao"}
    return quantized


def input_gradients(model: torch.nn.Module) -> bool:
    """Whether gradients reach the inputs (False for int8-torch-ao, whose kernels have no autograd)."""
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
    replace_linear(model, Int8WeightOnlyLinear)
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


class Int8DynamicLinear(Int8WeightOnlyLinear):
    """int8 weights (per output channel) x int8 activations (per token, symmetric), summed exactly:
    integer products of |q| <= 127 add up without rounding in float32 while in_features <= 1040 (the
    int32 accumulation of an int8 GEMM); wider layers round at float32's 2^-24, far below int8's step."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.detach().abs().amax(dim=-1, keepdim=True).clamp_min(1e-12) / 127.0
        scaled = x / scale
        q = scaled + (torch.round(scaled).clamp(-127, 127) - scaled).detach()  # straight-through gradient
        y = torch.nn.functional.linear(q, self.weight_int8.to(x.dtype)) * scale * self.scale.to(x.dtype)
        return y if self.bias is None else y + self.bias.to(x.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weights and activations"


def replace_linear(module: torch.nn.Module, kind: type) -> None:
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, kind(child))
        else:
            replace_linear(child, kind)


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
