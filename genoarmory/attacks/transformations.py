"""Transformations: proposals of nucleotide edits for one region of the current sequence.

Token-level knowledge (a masked LM's top-k, input-embedding neighbours) only *proposes* edits: every
proposal is realised as substitutions `(position, ref, alt)` through the token's nucleotide span, and a
replacement token must cover as many nucleotides as the one it replaces (length never changes).

`kinds` (the threat model's `attack.edits`, constraints.EDIT_KINDS) adds insertions and deletions, in the
original's coordinates (edits.py): single bases for the base-level transformations, whole tokens for the
masked LM (a token deleted, or one the MLM proposes for a mask inserted before a token, as BAE-I does).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Protocol

import numpy as np
import torch

from genoarmory.errors import UserError
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


SUBSTITUTION = ("substitution",)


def base_indels(original: str, span: Span, kinds) -> list[list[Edit]]:
    """Single-base indels in the span: each base deleted, and each other base inserted before it (the base
    itself inserted before it is the same sequence as inserted after it: the next position's proposal)."""
    out = []
    for p in range(*span):
        if "deletion" in kinds:
            out.append([(p, original[p], "")])
        if "insertion" in kinds:
            out += [[(p, "", b)] for b in other_bases(original[p])]
    return out


class BaseSubstitution:
    """Each position of the span to each of the three other bases (and, with indels, `base_indels`)."""

    def __init__(self, kinds=SUBSTITUTION):
        self.kinds = tuple(kinds)

    def prepare(self, original, rng):
        return None

    def propose(self, state, current, span):
        out = [[(p, current[p], b)] for p in range(*span) for b in other_bases(current[p])] \
            if "substitution" in self.kinds else []
        return out if self.kinds == SUBSTITUTION else out + base_indels(current, span, self.kinds)


class RandomBase:
    """One uniformly random other base at one uniformly random position of the span (random baseline);
    with indels, first a uniformly random kind among `kinds`, then a random base to insert."""

    def __init__(self, kinds=SUBSTITUTION):
        self.kinds = tuple(kinds)

    def prepare(self, original, rng):
        return rng

    def propose(self, rng, current, span):
        if self.kinds == SUBSTITUTION:  # the baseline's draws as they always were
            p = int(rng.integers(span[0], span[1]))
            return [[(p, current[p], str(rng.choice(list(other_bases(current[p])))))]]
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        p = int(rng.integers(span[0], span[1]))
        if kind == "deletion":
            return [[(p, current[p], "")]]
        pool = other_bases(current[p]) if kind == "substitution" else BASES
        return [[(p, "" if kind == "insertion" else current[p], str(rng.choice(list(pool))))]]


class _TokenTable:
    """Per-example table: token spans of the original and, per token, replacement strings; with indels,
    `insertions` per token (token texts to insert before it) and `kinds`."""

    def __init__(self, spans: list[Span], replacements: list[list[str]], insertions: list[list[str]] | None = None,
                 kinds=SUBSTITUTION):
        self.spans, self.replacements, self.insertions, self.kinds = spans, replacements, insertions, tuple(kinds)

    def propose(self, current: str, span: Span) -> list[list[Edit]]:
        out, seen = [], set()
        for t, ((start, end), options) in enumerate(zip(self.spans, self.replacements)):
            if start < span[1] and span[0] < end:
                for rep in options if "substitution" in self.kinds else ():
                    edits = replacement_edits(current, start, rep)
                    key = tuple(edits)
                    if edits and key not in seen:
                        seen.add(key)
                        out.append(edits)
                if "deletion" in self.kinds:
                    out.append([(p, current[p], "") for p in range(start, end)])
                for text in self.insertions[t] if "insertion" in self.kinds else ():
                    out.append([(start, "", text)])
        return out


class MLMProposals:
    """BERT-Attack's candidates: one forward pass of a masked LM over the original sequence (as Li et al.
    2020 do), its top-k tokens at every position, realised through the MLM's own token spans.

    On CUDA the engine's `prepare_many` runs that pass for the examples about to start, `chunk` at a time
    (measured 1.8-2.8x faster BERT-Attack on an H200: benchmarks/RESULTS.md); elsewhere each example gets
    its own pass, so CPU records never depend on which examples ran together. With insertions, each example
    also gets one pass over its copies with a mask inserted before each token (`_insertions`)."""

    def __init__(self, mlm: torch.nn.Module, encoder: SequenceEncoder, k: int, device: torch.device,
                 chunk: int = 64, kinds=SUBSTITUTION):
        self.mlm, self.encoder, self.k, self.device = mlm.to(device).eval(), encoder, int(k), torch.device(device)
        self.kinds = tuple(kinds)
        if "insertion" in self.kinds and encoder.tokenizer.mask_token_id is None:
            raise UserError("attack.edits with insertions: the masked LM's tokenizer has no mask token to insert")
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
        table = table if table is not None else self._table(original, self._top_tokens([original])[0])
        if self.kinds != SUBSTITUTION:
            table = _TokenTable(table.spans, table.replacements, self._insertions(original, table.spans), self.kinds)
        return table

    def _logits(self, inputs: dict) -> torch.Tensor:
        """The MLM's logits; on CUDA in bf16, as the victim's queries: the MLM only proposes candidates."""
        with CudaInference() if self.device.type == "cuda" else contextlib.nullcontext():
            return self.mlm(**inputs).logits.float()

    @torch.inference_mode()
    def _top_tokens(self, originals: list[str]) -> np.ndarray:
        """[n, tokens, 4k] token ids the MLM ranks highest at every position (padded batch)."""
        logits = self._logits(self.encoder.encode(originals, self.device))
        return logits.topk(min(self.k * 4, logits.shape[-1]), dim=-1).indices.cpu().numpy()

    @torch.inference_mode()
    def _insertions(self, original: str, spans: list[Span]) -> list[list[str]]:
        """Per token span: the first k DNA tokens (any width) the MLM ranks highest for a mask inserted before
        it, from one batch of copies of the original (one copy per token, its mask at that token)."""
        if not spans:
            return []
        ids = self.encoder.encode([original], "cpu")["input_ids"][0].tolist()
        at = [t for t, span in enumerate(self.encoder.token_spans(original)) if span is not None]
        mask = self.encoder.tokenizer.mask_token_id
        rows = torch.tensor([ids[:t] + [mask] + ids[t:] for t in at], device=self.device)
        logits = self._logits({"input_ids": rows, "attention_mask": torch.ones_like(rows)})
        picked = logits[torch.arange(len(at), device=logits.device), torch.tensor(at, device=logits.device)]
        ranked = picked.topk(min(self.k * 4, picked.shape[-1]), dim=-1).indices.cpu().numpy()
        return [self._text[row][self._width[row] > 0].tolist()[:self.k] for row in ranked]

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
