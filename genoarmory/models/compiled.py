"""`model.compile=auto`: the victim's bf16 queries through `torch.compile` on CUDA.

Attack batches change shape at every step (how many candidates, how long the longest). Compiled code is
specialised to shapes, so the token length is padded up to a bucket (a multiple of `BUCKET` tokens, with
the tokenizer's pad id on its padding side and attention mask 0: what the tokenizer itself gives the
shorter members of a longer batch) and compiled once per bucket, static; the batch dimension is dynamic,
so one compiled graph per bucket serves every batch size. The first batch of a bucket pays the compile
(tens of seconds for a 12-layer model); later ones reuse it for the life of the process.

A large model (REGIONAL_ABOVE parameters and up: NT's 500M) compiles its repeated block instead of the
whole model ("regional" compilation): the transformer layers share one class, so the compiled code of one
serves all of them and a bucket's first compile costs about one layer's, not 29 layers' (whole-model compile
of NT v2 500M took 145 s a bucket on an H200, RESULTS.md run 5). The embeddings and head stay eager; the
fusion inside each layer, where a compile's speed comes from, is kept. The compiled layers live in a twin of
the model (its own module tree, the model's parameters and buffers): the model itself is never changed, so
code running it at the same time on another thread (the victim's launcher thread queries while the engine's
similarity filter or a gradient pass runs the model) never meets a compiled layer. Small models, where host
launch cost matters more than compile time, compile whole.

A model that takes no attention mask (HyenaDNA) cannot be padded without changing what it reads, so it is
compiled per exact length instead. Code that torch.compile cannot trace makes it warn once and run the
model eagerly from then on (the run goes on, at eager speed). Float32 passes (success confirmations, self-checks) and CPU runs never
come here: they stay on the eager model.
"""

from __future__ import annotations

import copy
import itertools
import warnings

import torch

BUCKET = 8  # tokens; bf16 matrix units like multiples of 8, and each bucket costs one compile
RECOMPILE_LIMIT = 256  # compiled graphs kept per model: one per length bucket met
REGIONAL_ABOVE = 200e6  # parameters from which the repeated block is compiled instead of the whole model


def _raise_recompile_limit() -> None:
    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):  # the name changed across torch versions
        if hasattr(config, name):
            setattr(config, name, max(int(getattr(config, name)), RECOMPILE_LIMIT))


class CompiledForward:
    """Logits of `model` for an encoded batch, through one compiled graph per padded length bucket."""

    def __init__(self, model: torch.nn.Module, encoder, takes_mask: bool, bucket: int = BUCKET, compiler=None,
                 regional: bool | None = None):
        _raise_recompile_limit()
        self.model = model
        self.pad_id = int(encoder.pad_id)
        self.left = getattr(encoder.tokenizer, "padding_side", "right") == "left"
        self.max_length = int(encoder.max_length)
        self.takes_mask = takes_mask
        self.bucket = bucket
        # `compiler`: torch.compile unless given (tests pass the identity to check the padding on CPU quickly)
        compiler = compiler or (lambda m: torch.compile(m, dynamic=None))
        # `regional`: None decides by size (module docstring)
        if regional is None:
            regional = sum(p.numel() for p in model.parameters()) >= REGIONAL_ABOVE
        self.blocks = repeated_blocks(model) if regional else None
        if self.blocks is not None:
            twin = sharing_twin(model)
            twin_blocks = repeated_blocks(twin)
            for i, block in enumerate(twin_blocks):
                twin_blocks[i] = compiler(block)
            self.compiled = twin
        else:
            self.compiled = compiler(model)
        self.buckets: set[int] = set()  # lengths compiled so far
        self.failed: str | None = None  # why compiling failed; from then on the model runs eagerly

    def padded_length(self, length: int) -> int:
        if not self.takes_mask:
            return length
        return min(max(length, self.max_length), -(-length // self.bucket) * self.bucket)

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        n, length = input_ids.shape
        kwargs = {"input_ids": input_ids}
        if self.takes_mask:
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            width = self.padded_length(length) - length
            if width:
                side = (width, 0) if self.left else (0, width)
                input_ids = torch.nn.functional.pad(input_ids, side, value=self.pad_id)
                attention_mask = torch.nn.functional.pad(attention_mask, side, value=0)
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        for tensor in kwargs.values():
            if n > 1:
                torch._dynamo.mark_dynamic(tensor, 0)
            torch._dynamo.mark_static(tensor, 1)
        self.buckets.add(int(input_ids.shape[1]))
        if self.failed is None:
            try:
                return self.compiled(**kwargs).logits
            except torch.OutOfMemoryError:
                raise  # the victim's back-off halves the batch
            except Exception as err:  # code torch.compile cannot trace (a remote-code model's own kernels)
                self.failed = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:200]
                warnings.warn(f"model.compile=auto: torch.compile failed for {type(self.model).__name__} "
                              f"({self.failed}); running the model eagerly")
        return self.model(**kwargs).logits


def sharing_twin(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model`'s module tree that shares its parameters and buffers (no tensor copied but the
    plain tensor attributes some models cache, such as rotary tables)."""
    shared = {id(t): t for t in itertools.chain(model.parameters(), model.buffers())}
    return copy.deepcopy(model, shared)


def repeated_blocks(model: torch.nn.Module) -> torch.nn.ModuleList | None:
    """The model's stack of layers: the ModuleList of modules of one class holding the most
    parameters (Esm's `encoder.layer`, Mistral's `layers`, ...); None when it has none."""
    best, size = None, 0
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len({type(m) for m in module}) == 1:
            n = sum(p.numel() for p in module.parameters())
            if n > size:
                best, size = module, n
    return best
