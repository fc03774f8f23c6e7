"""Transformations: proposals of nucleotide edits for one region of the current sequence.

Token-level knowledge (a masked LM's top-k, input-embedding neighbours) only *proposes* edits: every
proposal is realised as substitutions `(position, ref, alt)` through the token's nucleotide span, and a
replacement token must cover as many nucleotides as the one it replaces (length never changes).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Protocol

import numpy as np
import torch

from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.victim import CudaInference
from genoarmory.sequence import BASES, Edit, other_bases

Span = tuple[int, int]
TABLES_KEPT = 8192  # MLM tables prepared ahead (examples in flight are at most attack.parallel ahead)


def is_dna(token: str) -> bool:
    return bool(token) and all(c in BASES for c in token)


def replacement_edits(current: str, start: int, replacement: str) -> list[Edit]:
    return [(start + i, current[start + i], b) for i, b in enumerate(replacement) if current[start + i] != b]


class Transformation(Protocol):
    def prepare(self, original: str, rng: np.random.Generator) -> object: ...

    def propose(self, state: object, current: str, span: Span) -> list[list[Edit]]: ...


class BaseSubstitution:
    """Each position of the span to each of the three other bases."""

    def prepare(self, original, rng):
        return None

    def propose(self, state, current, span):
        return [[(p, current[p], b)] for p in range(*span) for b in other_bases(current[p])]


class RandomBase:
    """One uniformly random other base at one uniformly random position of the span (random baseline)."""

    def prepare(self, original, rng):
        return rng

    def propose(self, rng, current, span):
        p = int(rng.integers(span[0], span[1]))
        return [[(p, current[p], str(rng.choice(list(other_bases(current[p])))))]]


class _TokenTable:
    """Per-example table: token spans of the original and, per token, replacement strings."""

    def __init__(self, spans: list[Span], replacements: list[list[str]]):
        self.spans, self.replacements = spans, replacements

    def propose(self, current: str, span: Span) -> list[list[Edit]]:
        out, seen = [], set()
        for (start, end), options in zip(self.spans, self.replacements):
            if start < span[1] and span[0] < end:
                for rep in options:
                    edits = replacement_edits(current, start, rep)
                    key = tuple(edits)
                    if edits and key not in seen:
                        seen.add(key)
                        out.append(edits)
        return out


class MLMProposals:
    """BERT-Attack's candidates: one forward pass of a masked LM over the original sequence (as Li et al.
    2020 do), its top-k tokens at every position, realised through the MLM's own token spans.

    On CUDA the engine's `prepare_many` runs that pass for the examples about to start, `chunk` at a time
    (measured 1.8-2.8x faster BERT-Attack on an H200: benchmarks/RESULTS.md); elsewhere each example gets
    its own pass, so CPU records never depend on which examples ran together."""

    def __init__(self, mlm: torch.nn.Module, encoder: SequenceEncoder, k: int, device: torch.device,
                 chunk: int = 64):
        self.mlm, self.encoder, self.k, self.device = mlm.to(device).eval(), encoder, int(k), torch.device(device)
        self.chunk = int(chunk)
        self.batched = self.device.type == "cuda"  # prepare_many's passes; see the class note
        vocab = encoder.tokenizer.convert_ids_to_tokens(list(range(len(encoder.tokenizer))))
        dna = [t if is_dna(t) else None for t in vocab]
        self._text = np.array(dna, dtype=object)
        self._width = np.array([len(t) if t else -1 for t in dna])  # -1: never a span's width
        self._text_key: dict[str, int] = {}
        for i, t in enumerate(dna):  # one key per distinct text: the first id spelling it
            if t:
                self._text_key.setdefault(t, i)
        self._key = np.array([self._text_key[t] if t else -2 for t in dna])
        self._ready: OrderedDict[str, _TokenTable] = OrderedDict()  # prepared ahead, taken by `prepare`

    def prepare_many(self, originals: list[str]) -> None:
        if not self.batched:
            return
        todo = [s for s in dict.fromkeys(originals) if s not in self._ready]
        for i in range(0, len(todo), self.chunk):
            part = todo[i:i + self.chunk]
            for seq, top in zip(part, self._top_tokens(part)):
                self._ready[seq] = self._table(seq, top)
        while len(self._ready) > TABLES_KEPT:  # tables of examples skipped before `prepare` are never taken
            self._ready.popitem(last=False)

    def prepare(self, original, rng):
        table = self._ready.pop(original, None)
        return table if table is not None else self._table(original, self._top_tokens([original])[0])

    @torch.inference_mode()
    def _top_tokens(self, originals: list[str]) -> np.ndarray:
        """[n, tokens, 4k] token ids the MLM ranks highest at every position (padded batch). On CUDA in bf16,
        as the victim's queries: the MLM only proposes candidates, the victim decides."""
        with CudaInference() if self.device.type == "cuda" else contextlib.nullcontext():
            logits = self.mlm(**self.encoder.encode(originals, self.device)).logits.float()
        return logits.topk(min(self.k * 4, logits.shape[-1]), dim=-1).indices.cpu().numpy()

    def _table(self, original: str, top: np.ndarray) -> _TokenTable:
        """Per token of the original: the first k of its ranked MLM tokens that are DNA of the token's width
        and differ from the original there (array operations: the host builds these for every example)."""
        rows, spans = [], []
        for t, span in enumerate(self.encoder.token_spans(original)):
            if span is not None:
                rows.append(t)
                spans.append(span)
        if not spans:
            return _TokenTable([], [])
        ranked = top[rows]  # [tokens, 4k]
        widths = np.array([b - a for a, b in spans])
        here = np.array([self._text_key.get(original[a:b], -1) for a, b in spans])
        ok = (self._width[ranked] == widths[:, None]) & (self._key[ranked] != here[:, None])
        ok &= np.cumsum(ok, axis=1) <= self.k
        return _TokenTable(spans, [self._text[ranked[i][ok[i]]].tolist() for i in range(len(spans))])

    def propose(self, table, current, span):
        return table.propose(current, span)


class EmbeddingNeighbours:
    """TextFooler's candidates from the victim's OWN input embeddings: the `n` nearest tokens by cosine
    (>= min_cos) among DNA tokens of the same length, realised through the victim's token spans."""

    def __init__(self, embedding: torch.Tensor, encoder: SequenceEncoder, n: int = 50, min_cos: float = 0.1):
        self.encoder = encoder
        vocab = encoder.tokenizer.convert_ids_to_tokens(list(range(embedding.shape[0])))
        dna = [i for i, t in enumerate(vocab) if is_dna(t)]
        weights = torch.nn.functional.normalize(embedding.detach().float()[dna], dim=-1)
        cos = weights @ weights.T
        lengths = torch.tensor([len(vocab[i]) for i in dna])
        cos[lengths[:, None] != lengths[None, :]] = -2.0  # same nucleotide length only
        cos.fill_diagonal_(-2.0)
        best = cos.topk(min(n, len(dna) - 1), dim=-1)
        self.neighbours: dict[int, list[str]] = {}
        for row, tid in enumerate(dna):
            self.neighbours[tid] = [vocab[dna[j]] for v, j in zip(best.values[row].tolist(), best.indices[row].tolist())
                                    if v >= min_cos]

    def prepare(self, original, rng):
        spans = self.encoder.token_spans(original)
        ids = self.encoder.encode([original])["input_ids"][0].tolist()
        kept = [(s, self.neighbours.get(i, [])) for s, i in zip(spans, ids) if s is not None]
        return _TokenTable([s for s, _ in kept], [r for _, r in kept])

    def propose(self, table, current, span):
        return table.propose(current, span)
