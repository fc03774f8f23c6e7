"""Any TextAttack search method over GenoArmory's goal, threat model and transformations.

`attack=textattack attack.search=greedy|beam|genetic|pso` picks a search from `attack.searches`
(Hydra `_target_`s, so any other TextAttack search can be added in config). The parts stay ours
(attacks/textattack_bridge.py): one nucleotide = one word, the same Hamming budget, protected spans,
GC shift and query budget as every attack, the same records, resume and self-check (engine).
"""

from __future__ import annotations

from functools import partial

from omegaconf import OmegaConf

from genoarmory.attacks.constraints import threat_model_from
from genoarmory.attacks.search import AttackSpec
from genoarmory.attacks.textattack_offline import import_textattack
from genoarmory.attacks.transformations import BaseSubstitution, EmbeddingNeighbours, MLMProposals
from genoarmory.config import cache_dir, own_callable
from genoarmory.errors import UserError


def transformation_from(victim, cfg):
    a = cfg.attack
    if a.transformation == "substitution":
        return BaseSubstitution()
    if a.transformation == "neighbours":
        return EmbeddingNeighbours(victim.input_embeddings().weight, victim.encoder, int(a.neighbours),
                                   float(a.min_cos_sim))
    if a.transformation == "mlm":
        from genoarmory.attacks.recipes.bertattack import load_mlm, mlm_folder

        mlm, encoder = load_mlm(mlm_folder(victim, cfg), cfg, a.get("mlm_tokenization") or victim.encoder.tokenization)
        return MLMProposals(mlm, encoder, int(a.k), victim.device)
    raise UserError(f"attack.transformation={a.transformation!r}: choose substitution, neighbours or mlm")


def build(victim, cfg) -> AttackSpec:
    a = cfg.attack
    if a.search not in a.searches:
        raise UserError(f"attack.search={a.search!r}: choose one of {', '.join(a.searches)} (attack.searches)")
    import_textattack(cache_dir(cfg))
    from genoarmory.attacks.textattack_bridge import TextAttackRunner, textattack_search

    threat = threat_model_from(a)
    chosen = OmegaConf.to_container(a.searches[a.search], resolve=True)
    search_cls = own_callable(chosen.pop("_target_", None), "search")  # TextAttack's own searches only
    runner = TextAttackRunner(victim, threat, transformation_from(victim, cfg), search_cls(**chosen))
    return AttackSpec(name=str(a.name), threat=threat, transformation=None,
                      targeted=bool(a.targeted), target_label=a.get("target_label"),
                      search=partial(textattack_search, runner))
