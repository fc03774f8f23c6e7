"""A plain tokenizer callable as a victim's encoder (`genoarmory.Victim.wrap(model, tokenize)`).

`tokenize(sequences) -> ids`: a list of DNA strings in; out either a mapping with `input_ids` (a tensor,
an array or a list of id lists) and optionally `attention_mask` (padding is where it is 0), or the ids
alone. GenoArmory pads the rows itself (right, with `pad_id`) and truncates them to `max_length`.

Token -> nucleotide spans are measured, not assumed: every base of the sequence is changed to each of its
three other bases, and a token's span is the run of bases whose change changes that token's id (tokens no
base changes, such as [CLS], have none). That is exact for every tokenization whose token count does not
depend on the bases (single nucleotides, non-overlapping k-mers with any tail rule, overlapping k-mers);
a tokenizer whose count does (BPE) is refused with the fix: wrap its Hugging Face tokenizer, whose
offsets give the spans. The tokenization's kind (char | kmer | overlapping_kmer), which BERT-Attack's
masked LM is read with unless attack.mlm_tokenization says otherwise, is read from the measured spans.

A callable has no vocabulary, so attacks that read one (textfooler's embedding neighbours, pgd, fimba)
say so; random and bertattack (with attack.mlm=) run.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from genoarmory.errors import UserError
from genoarmory.models.encoding import SequenceEncoder, Span

NO_VOCABULARY = ("this attack reads the tokenizer's vocabulary, which a tokenizer callable does not have: use "
                 "attack=random or attack=bertattack with attack.mlm=<masked LM>, or wrap the model with its "
                 "Hugging Face tokenizer")
PROBE = "GATTACACGTTAGCCATGCAAGTCCGATGACTTGCAGTACCGGATTCAAGCTGTACGATCCATGTCAGGTACTTGACCAGTAGCATCGTAAGC"
SPANS_KEPT = 256  # spans of the most recent originals (an attack asks for its original's more than once)


class TokenizerCallable:
    """What code reading a victim's tokenizer finds for a plain callable: its pad token and padding side
    (a model family may ask for left padding: families/), and no vocabulary."""

    pad_token, eos_token, eos_token_id, is_fast = "<pad>", None, None, False

    def __init__(self, tokenize, pad_id: int):
        self.tokenize, self.pad_token_id, self.padding_side = tokenize, int(pad_id), "right"

    def __call__(self, sequences: list[str]):
        return self.tokenize(sequences)

    def convert_ids_to_tokens(self, ids):
        raise UserError(NO_VOCABULARY)

    def __len__(self) -> int:
        raise UserError(NO_VOCABULARY)


def _rows(out, n: int) -> list[list[int]]:
    """The callable's answer for n sequences as n unpadded id rows."""
    mask = None
    if hasattr(out, "keys"):
        if "input_ids" not in out:
            raise UserError(f"the tokenizer callable returned a mapping without input_ids (keys: {', '.join(out)})")
        out, mask = out["input_ids"], out.get("attention_mask")
    ids = [list(map(int, np.asarray(row).reshape(-1))) for row in (out.tolist() if hasattr(out, "tolist") else out)]
    if len(ids) != n:
        raise UserError(f"the tokenizer callable returned {len(ids)} rows for {n} sequences")
    if mask is None:
        return ids
    keep = mask.tolist() if hasattr(mask, "tolist") else mask
    return [[t for t, m in zip(row, row_mask) if m] for row, row_mask in zip(ids, keep)]


class CallableEncoder(SequenceEncoder):
    """The SequenceEncoder interface over a tokenizer callable (module note)."""

    def __init__(self, tokenize, max_length: int = 512, pad_id: int = 0, too_long: str = "error",
                 tokenization: str | None = None):
        if not callable(tokenize):
            raise UserError(f"Victim.wrap needs a tokenizer: a Hugging Face one or a callable, not {type(tokenize).__name__}")
        self.tokenizer = TokenizerCallable(tokenize, pad_id)
        self.max_length, self.too_long, self.pad_id = int(max_length), too_long, int(pad_id)
        self._lookup = self._backend = None
        self._spans: OrderedDict[str, list[Span]] = OrderedDict()
        self.tokenization, self.k = "char", 1  # until measured
        measured, self.k = _kind(self.token_spans(PROBE))
        if tokenization is not None and tokenization != measured:
            raise UserError(f"tokenization={tokenization!r}, but the tokenizer callable's tokens are {measured} "
                            "(measured by changing one base at a time)")
        self.tokenization = measured
        self._spans.clear()

    def token_rows(self, seqs: list[str]) -> list[list[int]]:
        return _rows(self.tokenizer(list(seqs)), len(seqs))

    def token_ids(self, seq: str) -> list[int]:
        return self.token_rows([seq])[0]

    def token_counts(self, seqs: list[str]) -> list[int]:
        return [len(row) for row in self.token_rows(seqs)]

    def _encode_numpy(self, seqs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = [row[: self.max_length] for row in self.token_rows(seqs)]
        width = max((len(r) for r in rows), default=0)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        left = self.tokenizer.padding_side == "left"
        for i, row in enumerate(rows):
            where = slice(width - len(row), width) if left else slice(0, len(row))
            ids[i, where], mask[i, where] = row, 1
        return ids, mask

    def token_spans(self, seq: str) -> list[Span]:
        """For each token of `encode([seq])`, the bases whose change changes it (module note)."""
        if seq in self._spans:
            self._spans.move_to_end(seq)
            return self._spans[seq]
        ids = self.token_ids(seq)
        probes = [seq[:i] + b + seq[i + 1:] for i in range(len(seq)) for b in [c for c in "ACGT" if c != seq[i]][:3]]
        changed: list[list[int]] = [[] for _ in ids]
        for start in range(0, len(probes), 3072):
            for j, row in enumerate(self.token_rows(probes[start:start + 3072])):
                if len(row) != len(ids):
                    raise UserError("the tokenizer callable gives a different number of tokens when one base changes "
                                    "(BPE-like): token spans cannot be measured from it; wrap the model with its "
                                    "Hugging Face tokenizer, whose offsets give them")
                base = (start + j) // 3
                for t in np.flatnonzero(np.asarray(row) != np.asarray(ids)):
                    if not changed[t] or changed[t][-1] != base:
                        changed[t].append(base)
        spans: list[Span] = []
        for bases in changed:
            if bases and bases[-1] - bases[0] + 1 != len(bases):
                raise UserError(f"a token of the tokenizer callable changes with bases {bases[0]}..{bases[-1]} but not "
                                "with every base between them: it does not cover one stretch of the sequence")
            spans.append((bases[0], bases[-1] + 1) if bases else None)
        spans = spans[: self.max_length]
        self._spans[seq] = spans
        while len(self._spans) > SPANS_KEPT:
            self._spans.popitem(last=False)
        return spans


def _kind(spans: list[Span]) -> tuple[str, int]:
    """(char | kmer | overlapping_kmer, k) from measured spans."""
    real = [s for s in spans if s is not None]
    if not real:
        raise UserError("the tokenizer callable's tokens do not change with any base of a DNA sequence")
    widths = [b - a for a, b in real]
    if any(nxt[0] < cur[1] for cur, nxt in zip(real, real[1:])):
        return "overlapping_kmer", max(widths)
    if set(widths) == {1}:
        return "char", 1
    return "kmer", max(widths)  # non-overlapping k-mers (a tail may fall back to shorter tokens)
