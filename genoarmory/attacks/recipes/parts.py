"""The parts an attack config names as `_target_`/`_partial_` nodes (`attack.transformation`,
`attack.candidate_filter`, `attack.transformations.<name>`), so the YAML says what the recipe is made of:

    transformation:
      _target_: genoarmory.attacks.recipes.parts.embedding_neighbours
      _partial_: true
      neighbours: ${..neighbours}

Each is `part(victim, cfg, **settings)`: the recipe supplies the victim and the composed config, the
node its settings. Only the functions listed in config.ALLOWED ('transformation', 'filter') can be named.
"""

from __future__ import annotations

from genoarmory.attacks.constraints import EDIT_KINDS
from genoarmory.attacks.similarity import EncoderSimilarity
from genoarmory.attacks.transformations import BaseSubstitution, EmbeddingNeighbours, MLMProposals, RandomBase


def edit_kinds(cfg) -> tuple[str, ...]:
    """The edit kinds attack.edits allows (constraints.EDIT_KINDS; threat_model_from checks the value);
    substitutions for a part built without a config (a caller's own composition)."""
    attack = getattr(cfg, "attack", None) or {}
    return EDIT_KINDS.get(attack.get("edits", "substitution"), EDIT_KINDS["substitution"])


def mlm_proposals(victim, cfg, k: int) -> MLMProposals:
    """Top-k tokens of a masked LM (attack.mlm, else the victim's own), as nucleotide edits."""
    from genoarmory.attacks.recipes.bertattack import load_mlm, mlm_folder

    tokenization = cfg.attack.get("mlm_tokenization") or victim.encoder.tokenization
    mlm, encoder = load_mlm(mlm_folder(victim, cfg), cfg, tokenization)
    return MLMProposals(mlm, encoder, k, victim.device, kinds=edit_kinds(cfg))


def embedding_neighbours(victim, cfg, neighbours: int, min_cos_sim: float) -> EmbeddingNeighbours:
    """The victim's own input-embedding neighbours of each token (cosine >= min_cos_sim)."""
    return EmbeddingNeighbours(victim.input_embeddings().weight, victim.encoder, neighbours, min_cos_sim)


def base_substitution(victim, cfg) -> BaseSubstitution:
    """The three other bases at each position (with indels, each base deleted and each other base inserted)."""
    return BaseSubstitution(edit_kinds(cfg))


def random_base(victim, cfg) -> RandomBase:
    """One random other base at a random position (the baseline); with indels, a random kind first."""
    return RandomBase(edit_kinds(cfg))


def encoder_similarity(victim, cfg, window: int, min_similarity: float) -> EncoderSimilarity:
    """The victim's own encoder over a window of tokens around the edit, cosine >= min_similarity."""
    return EncoderSimilarity(victim, window, min_similarity)
