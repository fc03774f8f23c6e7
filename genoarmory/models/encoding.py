"""DNA strings -> model inputs, and model tokens -> nucleotide spans, for every tokenization family.

One `SequenceEncoder` per victim. Special tokens, pad id and attention mask come from the tokenizer
itself (never a hard-coded `[CLS]`; DNABERT-2's config even carries a wrong pad id). Character and
non-overlapping k-mer vocabularies (tiny-char, tiny-6mer, Nucleotide Transformer) are tokenised with a
numpy lookup instead of the tokenizer: attack candidates arrive in the thousands, all the same length.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import torch

from genoarmory.errors import UserError
from genoarmory.sequence import encode_bases

Span = tuple[int, int] | None  # [start, end) in nucleotides; None for special tokens


class SequenceEncoder:
    def __init__(self, tokenizer, tokenization: str, max_length: int, too_long: str = "error", k: int = 6):
        self.tokenizer = tokenizer
        self.tokenization = tokenization
        self.max_length = int(min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length))
        self.too_long = too_long
        self.k = k
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if self.pad_id is None:
            raise UserError("the tokenizer defines neither a pad nor an eos token; cannot batch inputs")
        self._lookup = _VectorLookup.build(tokenizer, tokenization, k)

    # -- text -> ids -------------------------------------------------------------------------------
    def _text(self, seq: str) -> str:
        if self.tokenization == "overlapping_kmer":  # DNABERT-1 reads space-separated overlapping k-mers
            return " ".join(seq[i:i + self.k] for i in range(len(seq) - self.k + 1))
        return seq

    def token_ids(self, seq: str) -> list[int]:
        """Token ids of one sequence, special tokens included, before any truncation."""
        return self.tokenizer(self._text(seq), add_special_tokens=True)["input_ids"]

    def check_lengths(self, examples) -> None:
        """Every example fits the model, or (sequence.too_long=truncate) a warning says which do not."""
        if not examples:
            return
        counts = [len(ids) for ids in self.tokenizer([self._text(e.sequence) for e in examples],
                                                     add_special_tokens=True)["input_ids"]]
        over = [(e, n) for e, n in zip(examples, counts) if n > self.max_length]
        if not over:
            return
        e, n = over[0]
        where = f"{e.meta['source']}:{e.meta['line']}" if "line" in e.meta else e.id
        if self.too_long == "truncate":
            warnings.warn(f"{len(over)} sequences exceed {self.max_length} tokens (first: {where}, {n}); truncating")
            return
        raise UserError(
            f"sequence of {len(e.sequence)} nt is {n} tokens, above the model's maximum of {self.max_length} "
            f"(set sequence.too_long=truncate to truncate)", where)

    def encode(self, seqs: list[str], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        if self._lookup is not None and len({len(s) for s in seqs}) == 1:
            ids = self._lookup(seqs)
            if ids is not None and ids.shape[1] <= self.max_length:
                ids_t = torch.from_numpy(ids).to(device)
                return {"input_ids": ids_t, "attention_mask": torch.ones_like(ids_t)}
        enc = self.tokenizer([self._text(s) for s in seqs], padding=True, truncation=True,
                             max_length=self.max_length, return_tensors="pt", return_token_type_ids=False)
        return {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}

    # -- tokens -> nucleotides ---------------------------------------------------------------------
    def token_spans(self, seq: str) -> list[Span]:
        """For each token position of `encode([seq])`, the nucleotide span it covers."""
        if self.tokenization == "overlapping_kmer":
            ids = self.token_ids(seq)[: self.max_length]
            special = self.tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
            spans, i = [], 0
            for is_special in special:
                spans.append(None if is_special else (i, min(i + self.k, len(seq))))
                i += 0 if is_special else 1
            return spans
        if self.tokenizer.is_fast:
            enc = self.tokenizer(seq, return_offsets_mapping=True, return_special_tokens_mask=True,
                                 truncation=True, max_length=self.max_length)
            return [None if sp else (a, b) for (a, b), sp in zip(enc["offset_mapping"], enc["special_tokens_mask"])]
        ids = self.token_ids(seq)[: self.max_length]  # slow tokenizers (NT's EsmTokenizer): cumulative lengths
        special = self.tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
        spans, pos = [], 0
        for tid, is_special in zip(ids, special):
            if is_special:
                spans.append(None)
                continue
            width = len(self.tokenizer.convert_ids_to_tokens(tid).replace("▁", "").replace("##", "")) or 1
            spans.append((pos, min(pos + width, len(seq))))
            pos += width
        return spans


class _VectorLookup:
    """Vectorised tokenisation for single-nucleotide and non-overlapping k-mer vocabularies.

    Valid only when the tokenizer's own rule is exactly "k-mers left to right, then single bases":
    `build` verifies that on probe sequences and returns None otherwise (the slow path stays correct).
    """

    def __init__(self, k: int, kmer_ids: np.ndarray, base_ids: np.ndarray, prefix: list[int], suffix: list[int]):
        self.k, self.kmer_ids, self.base_ids = k, kmer_ids, base_ids
        self.prefix, self.suffix = np.array(prefix, dtype=np.int64), np.array(suffix, dtype=np.int64)

    @classmethod
    def build(cls, tokenizer, tokenization: str, k: int):
        if tokenization not in ("char", "kmer"):
            return None
        k = 1 if tokenization == "char" else k
        vocab = tokenizer.get_vocab()
        if any(b not in vocab for b in "ACGTN"):
            return None
        kmers = ["".join(p) for p in itertools.product("ACGT", repeat=k)]
        if any(m not in vocab for m in kmers):
            return None
        base_ids = np.array([vocab[b] for b in "ACGTN"], dtype=np.int64)
        kmer_ids = np.array([vocab[m] for m in kmers], dtype=np.int64)
        probe = tokenizer("ACGTAC", add_special_tokens=True)["input_ids"]
        inner = tokenizer("ACGTAC", add_special_tokens=False)["input_ids"]
        start = next((i for i in range(len(probe)) if probe[i:i + len(inner)] == inner), None)
        if start is None:
            return None
        lookup = cls(k, kmer_ids, base_ids, probe[:start], probe[start + len(inner):])
        rng = np.random.default_rng(0)
        for n in (1, 5, 6, 13, 64):  # verify against the tokenizer itself
            s = "".join(rng.choice(list("ACGT"), n))
            if lookup([s]).tolist()[0] != tokenizer(s, add_special_tokens=True)["input_ids"]:
                return None
        return lookup

    def __call__(self, seqs: list[str]) -> np.ndarray | None:
        codes = encode_bases(seqs)
        if (codes > 3).any():  # N or unexpected bytes: let the tokenizer decide
            return None
        n, length = codes.shape
        whole = length // self.k * self.k
        parts = [np.broadcast_to(self.prefix, (n, len(self.prefix)))]
        if whole:
            blocks = codes[:, :whole].reshape(n, -1, self.k).astype(np.int64)
            index = (blocks * (4 ** np.arange(self.k - 1, -1, -1))).sum(-1)
            parts.append(self.kmer_ids[index])
        parts.append(self.base_ids[codes[:, whole:]])
        parts.append(np.broadcast_to(self.suffix, (n, len(self.suffix))))
        return np.ascontiguousarray(np.concatenate(parts, axis=1))
