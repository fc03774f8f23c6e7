"""DNA strings -> model inputs, and model tokens -> nucleotide spans, for every tokenization family.

One `SequenceEncoder` per victim. Special tokens, pad id and attention mask come from the tokenizer
itself (never a hard-coded `[CLS]`; DNABERT-2's config even carries a wrong pad id). Character and
non-overlapping k-mer vocabularies (tiny-char, tiny-6mer, Nucleotide Transformer) are tokenised with a
numpy lookup instead of the tokenizer: attack candidates arrive in the thousands, all the same length.
Other fast tokenizers (BPE) are called through their Rust backend directly, skipping the Python wrapper's
per-call set-up and list -> tensor conversion. Both shortcuts are verified against the tokenizer itself
when the encoder is built and are switched off where they differ. On CUDA the ids travel through pinned
memory without blocking, so the host tokenises the next batch while the GPU runs this one.
"""

from __future__ import annotations

import copy
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
        self._backend = None if self._lookup is not None else self._verified_backend()

    # -- text -> ids -------------------------------------------------------------------------------
    def _text(self, seq: str) -> str:
        if self.tokenization == "overlapping_kmer":  # DNABERT-1 reads space-separated overlapping k-mers
            return " ".join(seq[i:i + self.k] for i in range(len(seq) - self.k + 1))
        return seq

    def token_ids(self, seq: str) -> list[int]:
        """Token ids of one sequence, special tokens included, before any truncation."""
        return self.tokenizer(self._text(seq), add_special_tokens=True)["input_ids"]

    def token_counts(self, seqs: list[str]) -> list[int]:
        """Tokens of each sequence, special tokens included, before any truncation."""
        return [len(ids) for ids in self.tokenizer([self._text(s) for s in seqs], add_special_tokens=True)["input_ids"]]

    def check_lengths(self, examples) -> None:
        """Every example fits the model, or (sequence.too_long=truncate) a warning says which do not."""
        if not examples:
            return
        counts = self.token_counts([e.sequence for e in examples])
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

    def encode(self, seqs: list[str], device: torch.device | str = "cpu",
               drop_full_mask: bool = False) -> dict[str, torch.Tensor | None]:
        """input_ids and attention_mask [n, T], right-padded to the longest, exactly as the tokenizer's
        `tokenizer(seqs, padding=True, truncation=True, max_length=...)` would give them.
        `drop_full_mask`: attention_mask None when nothing is padded (what transformers itself does after
        checking the mask on the device, a host-device synchronisation per forward pass)."""
        ids, mask = self._encode_numpy(seqs)
        device = torch.device(device)
        ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
        if drop_full_mask and mask.all():
            return {"input_ids": _to_device(ids_t, device), "attention_mask": None}
        return {"input_ids": _to_device(ids_t, device), "attention_mask": _to_device(mask_t, device)}

    def _encode_numpy(self, seqs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self._lookup is not None and seqs:
            ids = self._lookup(seqs) if len({len(s) for s in seqs}) == 1 else None
            if ids is not None:  # the common case: candidates of one length, A/C/G/T only
                if ids.shape[1] <= self.max_length:
                    return ids, np.ones_like(ids)
            else:  # mixed lengths or N (importance probes): row by row, then right-padded
                rows = self._lookup.rows(seqs)
                if rows is not None and max(len(r) for r in rows) <= self.max_length:
                    return _pad(rows, self.pad_id)
        if self._backend is not None:
            encodings = self._backend_encode(self._backend, [self._text(s) for s in seqs])
            return (np.array([e.ids for e in encodings], dtype=np.int64),
                    np.array([e.attention_mask for e in encodings], dtype=np.int64))
        enc = self.tokenizer([self._text(s) for s in seqs], padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="np", return_token_type_ids=False,
                             return_attention_mask=True)  # HyenaDNA's tokenizer returns none unless asked
        return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)

    @staticmethod
    def _backend_encode(backend, texts: list[str]):
        fast = getattr(backend, "encode_batch_fast", None)  # tokenizers >= 0.21: no offsets computed
        return fast(texts) if fast is not None else backend.encode_batch(texts)

    def _verified_backend(self):
        """A private copy of a fast tokenizer's Rust backend set to the wrapper's padding and truncation;
        None unless it reproduces the wrapper on probe batches (mixed lengths, N, junk, over-long)."""
        tok = self.tokenizer
        if not getattr(tok, "is_fast", False) or tok.pad_token is None or tok.pad_token_id != self.pad_id:
            return None
        try:
            backend = copy.deepcopy(tok.backend_tokenizer)
            backend.no_padding()
            backend.no_truncation()
            backend.enable_truncation(max_length=self.max_length, direction=tok.truncation_side)
            backend.enable_padding(pad_id=self.pad_id, pad_token=tok.pad_token, direction=tok.padding_side)
        except Exception:  # an exotic backend: the wrapper stays in charge
            return None
        rng = np.random.default_rng(0)
        probes = [["".join(rng.choice(list("ACGT"), n)) for n in (1, 5, 13, 40, 101)],
                  ["ACGTNNNNNNACGT", "NNNN", "AC?GT", "ACGT" * (self.max_length + 2)]]
        for batch in probes:
            texts = [self._text(s) for s in batch]
            want = tok(texts, padding=True, truncation=True, max_length=self.max_length, return_token_type_ids=False)
            got = self._backend_encode(backend, texts)
            if [e.ids for e in got] != want["input_ids"] or [e.attention_mask for e in got] != want["attention_mask"]:
                return None
        return backend

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
    Sequences holding N (the importance probes of every attack mask a token with N) follow the
    tokenizer's greedy rule instead — a k-mer wherever the next k bases are A/C/G/T, else one single
    base — when `build` has verified that rule too (Nucleotide Transformer's tokenizer works so).
    """

    def __init__(self, k: int, kmer_ids: np.ndarray, base_ids: np.ndarray, prefix: list[int], suffix: list[int]):
        self.k, self.kmer_ids, self.base_ids = k, kmer_ids, base_ids
        self.prefix, self.suffix = np.array(prefix, dtype=np.int64), np.array(suffix, dtype=np.int64)
        self.greedy_n = False  # set by `build` once verified against the tokenizer
        self.right_padded = False  # set by `build`: rows of different lengths may be padded here
        self._kmer_index = {"".join(p): int(i) for p, i in zip(itertools.product("ACGT", repeat=k), kmer_ids)}
        self._base_index = {b: int(i) for b, i in zip("ACGTN", base_ids)}

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
        lookup.right_padded = getattr(tokenizer, "padding_side", "right") == "right"
        lookup.greedy_n = True
        for s in ("ACGTACNNNNNNACGTACGTANACGTACGTAC", "N", "NNACG", "ACGTN", "GGGGGGN" * 5 + "ACGTACGTACG",
                  "".join(rng.choice(list("ACGTN"), 97))):
            want = tokenizer(s, add_special_tokens=True)["input_ids"]
            if not lookup.greedy_n or lookup._greedy_row(s).tolist() != want:
                lookup.greedy_n = False
        return lookup

    def _greedy_row(self, seq: str) -> np.ndarray:
        ids, p, n, k = list(self.prefix), 0, len(seq), self.k
        while p < n:
            kmer = self._kmer_index.get(seq[p:p + k]) if p + k <= n else None
            if kmer is not None:
                ids.append(kmer)
                p += k
            else:
                ids.append(self._base_index[seq[p]])
                p += 1
        ids.extend(self.suffix.tolist())
        return np.array(ids, dtype=np.int64)

    def rows(self, seqs: list[str]) -> list[np.ndarray] | None:
        """Token ids of each sequence (lengths may differ); None when the tokenizer must decide (junk bytes,
        N without a verified rule, or a tokenizer that pads on the left)."""
        if not self.right_padded:
            return None
        rows: list[np.ndarray | None] = [None] * len(seqs)
        by_length: dict[int, list[int]] = {}
        for i, s in enumerate(seqs):
            by_length.setdefault(len(s), []).append(i)
        for idx in by_length.values():
            codes = encode_bases([seqs[i] for i in idx])
            if (codes > 4).any():
                return None
            clean = ~(codes == 4).any(axis=1)
            if clean.any():
                block = self._ids(codes[clean])
                for i, r in zip(np.asarray(idx)[clean], block):
                    rows[i] = r
            if not clean.all():
                if not self.greedy_n:
                    return None
                for i in np.asarray(idx)[~clean]:
                    rows[i] = self._greedy_row(seqs[i])
        return rows

    def __call__(self, seqs: list[str]) -> np.ndarray | None:
        """Equal-length sequences of A/C/G/T only -> ids [n, T]; None otherwise."""
        codes = encode_bases(seqs)
        if (codes > 3).any():  # N or unexpected bytes: let the tokenizer decide
            return None
        return self._ids(codes)

    def _ids(self, codes: np.ndarray) -> np.ndarray:
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


def _pad(rows: list[np.ndarray], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token rows to the longest (the tokenizers' own padding side, verified by the lookup)."""
    width = max(len(r) for r in rows)
    if all(len(r) == width for r in rows):
        ids = np.stack(rows) if rows else np.zeros((0, 0), dtype=np.int64)
        return ids, np.ones_like(ids)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return ids, mask


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    if device.type == "cuda":  # pinned + non_blocking: no stream sync, host and GPU overlap
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)
