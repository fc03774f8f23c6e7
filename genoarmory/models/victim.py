"""`Victim`: one classifier + its encoder, queried in large batches, cached, counted.

Everything an attack or a defense needs from a model goes through here: probabilities for many
sequences at once, token -> nucleotide spans, and input-embedding access for gradient attacks.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Iterator

import numpy as np
import torch

from genoarmory.models.encoding import SequenceEncoder

DEFAULT_BATCH = {"cpu": 256, "cuda": 1024}
CACHE_SIZE = 500_000  # sequences; probabilities are tiny, the sequences dominate (~100 MB at 200 nt)


def pick_device(name: str = "auto") -> torch.device:
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Victim:
    def __init__(self, model: torch.nn.Module, encoder: SequenceEncoder, name: str,
                 device: torch.device | str = "cpu", batch_size: int | str = "auto", info: dict | None = None):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.encoder = encoder
        self.name = name
        self.info = dict(info or {})  # where the weights came from, quantization, ...
        self.num_labels = int(model.config.num_labels)
        self.batch_size = int(DEFAULT_BATCH[self.device.type] if batch_size in (None, "auto") else batch_size)
        self.queries = 0  # sequences sent through the model (cache hits excluded)
        self.forward_batches = 0  # forward passes those queries took
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        params = inspect.signature(model.forward).parameters
        self._takes_mask = "attention_mask" in params

    # -- queries ---------------------------------------------------------------------------------
    def predict_proba(self, sequences: list[str], use_cache: bool = True) -> np.ndarray:
        """Class probabilities, shape [n, num_labels], float32. Duplicates and cached sequences cost nothing."""
        out = np.empty((len(sequences), self.num_labels), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for i, s in enumerate(sequences):
            hit = self._cache.get(s) if use_cache else None
            if hit is not None:
                out[i] = hit
            else:
                todo.setdefault(s, []).append(i)
        if todo:
            fresh = list(todo)
            probs = self._forward_probs(fresh)
            for s, p in zip(fresh, probs):
                out[todo[s]] = p
                if use_cache:
                    self._remember(s, p)
        return out

    def _remember(self, seq: str, probs: np.ndarray) -> None:
        self._cache[seq] = probs
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        self._cache.clear()

    @torch.inference_mode()
    def _forward_probs(self, sequences: list[str]) -> np.ndarray:
        """Length-bucketed batches; the batch size halves on CUDA out-of-memory and carries on."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        result = np.empty((len(sequences), self.num_labels), dtype=np.float32)
        start = 0
        while start < len(order):
            idx = order[start:start + self.batch_size]
            try:
                logits = self.logits([sequences[i] for i in idx])
            except torch.OutOfMemoryError:
                if self.batch_size == 1:
                    raise
                torch.cuda.empty_cache()
                self.batch_size //= 2
                continue
            result[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            self.queries += len(idx)
            self.forward_batches += 1
            start += len(idx)
        return result

    def logits(self, sequences: list[str]) -> torch.Tensor:
        """Raw logits for one batch (no cache, no counting): used by training and gradient attacks."""
        batch = self.encoder.encode(sequences, self.device)
        with self._autocast():
            return self._call(**batch)

    def _call(self, input_ids=None, attention_mask=None, inputs_embeds=None) -> torch.Tensor:
        kwargs = {"input_ids": input_ids} if inputs_embeds is None else {"inputs_embeds": inputs_embeds}
        if self._takes_mask and attention_mask is not None:
            kwargs["attention_mask"] = attention_mask
        return self.model(**kwargs).logits

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    # -- structure -------------------------------------------------------------------------------
    def token_spans(self, sequence: str):
        return self.encoder.token_spans(sequence)

    def input_embeddings(self) -> torch.nn.Embedding:
        return self.model.get_input_embeddings()

    def embed(self, sequences: list[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(input embeddings [n, T, d], the encoded batch) — the start point of gradient attacks."""
        batch = self.encoder.encode(sequences, self.device)
        return self.input_embeddings()(batch["input_ids"]), batch

    def forward_from_embeddings(self, embeds: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        with self._autocast():
            return self._call(inputs_embeds=embeds, attention_mask=attention_mask)

    def batches(self, sequences: list[str], size: int | None = None) -> Iterator[list[str]]:
        size = size or self.batch_size
        for i in range(0, len(sequences), size):
            yield sequences[i:i + size]
