"""Perturbed embeddings -> DNA: nearest real token per row, then nucleotide edits within the budget.

A perturbed embedding is not a sequence anyone can synthesise. Each perturbed row is projected to the
nearest (Euclidean, PGD's own geometry) input embedding among the DNA tokens that cover as many
nucleotides as the row's token, so length never changes; rows whose nearest token differs become
nucleotide edits through the token's span. Rows the attack moved most are realised first until the
threat model's Hamming budget (and protected spans, GC shift) stops them.
"""

from __future__ import annotations

import torch

from genoarmory.attacks.constraints import Candidate, Original, ThreatModel
from genoarmory.attacks.transformations import is_dna, replacement_edits
from genoarmory.sequence import Edit, apply_edits

Span = tuple[int, int]


class DnaVocabulary:
    """The victim's DNA tokens grouped by nucleotide length, with their input embeddings."""

    def __init__(self, embedding: torch.Tensor, tokenizer):
        tokens = tokenizer.convert_ids_to_tokens(list(range(embedding.shape[0])))
        self.groups: dict[int, tuple[list[str], torch.Tensor]] = {}
        for length in sorted({len(t) for t in tokens if is_dna(t)}):
            ids = [i for i, t in enumerate(tokens) if is_dna(t) and len(t) == length]
            self.groups[length] = ([tokens[i] for i in ids], embedding.detach()[ids].float())

    def nearest(self, rows: torch.Tensor, lengths: list[int]) -> list[str]:
        """For each row [m, d], the text of the nearest DNA token of the given nucleotide length."""
        out: list[str] = [""] * len(lengths)
        for length in set(lengths):
            idx = [i for i, n in enumerate(lengths) if n == length]
            texts, table = self.groups[length]
            best = torch.cdist(rows[idx].float(), table.to(rows.device)).argmin(dim=1).tolist()
            for i, j in zip(idx, best):
                out[i] = texts[j]
        return out


def realise(original: str, proposals: list[tuple[Span, str, float]], threat: ThreatModel,
            protected: set[int]) -> list[Edit]:
    """Accept token replacements `(span, new token text, weight)` heaviest first while the threat model
    admits them. Overlapping spans (DNABERT-1's k-mers) edit a nucleotide at most once."""
    reference = Original(original, {}, frozenset(protected))
    current, edits = original, []
    for span, text, _ in sorted(proposals, key=lambda p: (-p[2], p[0][0])):
        new = replacement_edits(current, span[0], text)
        candidate = Candidate(apply_edits(current, new), sorted(edits + new), new)
        if threat.admit([candidate], reference)[0]:
            current, edits = candidate.sequence, candidate.edits
    return edits
