"""DNABERT-2's attention: its Triton flash-attention kernel on CUDA when it works, PyTorch otherwise.

`bert_layers.py` imports `flash_attn_qkvpacked_func` from `flash_attn_triton.py` when `triton` imports,
and then calls it for every forward pass with attention dropout 0, whatever the device. Two things go
wrong as shipped: on a CPU run where `triton` is installed (a CUDA build of torch) the kernel is handed
CPU tensors, and on current Triton the kernel does not compile (measured on an H200, Triton 3.6:
`CompilationError` in `_fwd_kernel`; it was written for an old Triton). `select_attention` therefore
keeps the kernel only on CUDA, and only after a small probe compiled it and it agreed with PyTorch's
attention within bf16 tolerance; otherwise it sets the module's kernel to None, which is the code's own
switch to its PyTorch path (the path every CPU run takes). The choice is per loaded module (per model
folder name in transformers' module cache), so it holds for every model built from that code.

The same file's PyTorch attention path prints a line of dashes at every layer of every forward pass (a
debug `print` left in the shipped code: 12 lines a pass, under the user's progress bar); `quiet_debug_print`
points that module's `print` at a no-op. Nothing else in `bert_layers.py` prints (it warns through
`warnings`, which stay).
"""

from __future__ import annotations

import math
import sys
import warnings

import torch

KERNEL = "flash_attn_qkvpacked_func"  # the name bert_layers.py calls


def attention_module(model: torch.nn.Module):
    """The loaded `bert_layers` module whose global decides the attention path."""
    return sys.modules[type(model).__module__]


def quiet_debug_print(model: torch.nn.Module) -> None:
    """Silence the loaded `bert_layers` module's own `print` calls (module docstring); builtins elsewhere
    are untouched."""
    attention_module(model).print = _no_print


def _no_print(*args, **kwargs) -> None:
    return None


def select_attention(model: torch.nn.Module, device: torch.device) -> str:
    """'triton' or 'pytorch': the path `model`'s attention takes from now on (the module is updated)."""
    module = attention_module(model)
    kernel = getattr(module, KERNEL, None)
    if kernel is None:
        return "pytorch"
    if device.type != "cuda":
        setattr(module, KERNEL, None)
        return "pytorch"
    heads = int(model.config.num_attention_heads)
    problem = kernel_problem(kernel, heads, int(model.config.hidden_size) // heads, device)
    if problem is not None:
        warnings.warn(f"DNABERT-2's Triton flash attention is not used ({problem}); running its PyTorch attention")
        setattr(module, KERNEL, None)
        return "pytorch"
    return "triton"


def reference_attention(qkv: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """What the kernel computes, as bert_layers.py's PyTorch path does: softmax(q k^T / sqrt(d) + bias) v."""
    q, k, v = (qkv[:, :, i].float().transpose(1, 2) for i in range(3))  # b h s d
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + bias.float()
    return (scores.softmax(-1) @ v).transpose(1, 2)  # b s h d


def kernel_problem(kernel, heads: int, head_dim: int, device: torch.device, length: int = 37) -> str | None:
    """None when `kernel` runs on `device` and matches the reference in bf16; else why not, in a few words."""
    gen = torch.Generator().manual_seed(0)
    qkv = torch.randn(2, length, 3, heads, head_dim, generator=gen).to(device, torch.bfloat16)
    bias = (-torch.rand(1, heads, length, length, generator=gen)).to(device, torch.bfloat16)
    try:
        got = kernel(qkv, bias).float()
    except Exception as err:  # a compilation or launch failure of the user's Triton
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no message'}"[:200]
    want = reference_attention(qkv, bias)
    if got.shape != want.shape or not torch.allclose(got, want, atol=2e-2, rtol=2e-2):
        return "its output differs from PyTorch attention beyond bf16 tolerance"
    return None
