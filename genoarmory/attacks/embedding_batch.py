"""Input embeddings of a batch of sequences, with each embedding row tied to the nucleotides it reads.

Gradient attacks (PGD, FIMBA's attributions) work on `Victim.embed`; their results must come back to
nucleotides. Rows are matched to `Victim.token_spans` through the attention mask (the real tokens, in
order), so left- or right-padding and special tokens of any family are handled alike.
Batches hold sequences of one token count (`same_length_batches`): given `inputs_embeds` instead of
ids, causal-LM classifiers (GenomeOcean's Mistral) cannot find the last real token and would pool padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genoarmory.attacks.transformations import is_dna
from genoarmory.errors import UserError

Span = tuple[int, int]


@dataclass
class EmbeddedBatch:
    embeds: torch.Tensor          # [n, T, d], detached
    attention_mask: torch.Tensor  # [n, T]
    input_ids: torch.Tensor       # [n, T]
    rows: list[list[tuple[int, Span]]]  # per sequence: (row, nucleotide span) of each DNA token
    editable: torch.Tensor        # [n, T, 1] 1.0 on DNA tokens that touch no protected position


def require_input_embeddings(victim, attack: str) -> None:
    """Input embeddings reach every model with an embedding layer (as `inputs_embeds`, or through a hook on
    that layer: models/forward.py)."""
    if not isinstance(victim.input_embeddings(), torch.nn.Embedding):
        raise UserError(f"{attack} perturbs input embeddings, but model {victim.name} has no input-embedding "
                        f"layer; choose an attack that only queries the model")


def same_length_batches(victim, sequences: list[str], size: int) -> list[list[int]]:
    """Indices of `sequences` in batches of at most `size`, each of a single token count (no padding)."""
    groups: dict[int, list[int]] = {}
    for i, seq in enumerate(sequences):
        groups.setdefault(len(victim.token_spans(seq)), []).append(i)
    return [idx[j:j + size] for idx in groups.values() for j in range(0, len(idx), size)]


def embed_batch(victim, sequences: list[str], protected: list[set[int]]) -> EmbeddedBatch:
    embeds, batch = victim.embed(sequences)
    mask = batch.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(batch["input_ids"])
    vocab = victim.encoder.tokenizer.convert_ids_to_tokens
    editable = torch.zeros(mask.shape + (1,), device=embeds.device)
    rows = []
    for i, seq in enumerate(sequences):
        real = mask[i].nonzero().flatten().tolist()
        spans = victim.token_spans(seq)
        if len(real) != len(spans):
            raise RuntimeError(f"{victim.name}: {len(spans)} token spans but {len(real)} attended tokens "
                               f"for a {len(seq)} nt sequence; cannot map embeddings to nucleotides")
        mine = []
        for row, span in zip(real, spans):
            token = vocab(int(batch["input_ids"][i, row]))
            if span is None or span[1] <= span[0] or not is_dna(token):
                continue
            mine.append((row, span))
            if not any(p in protected[i] for p in range(*span)):
                editable[i, row] = 1.0
        rows.append(mine)
    return EmbeddedBatch(embeds.detach(), mask, batch["input_ids"], rows, editable)
