"""Any TextAttack search method over GenoArmory's goal, threat model and transformations.

`attack=textattack attack.search=greedy|beam|genetic|pso` picks a search from `attack.searches`
(Hydra `_target_`s, so any other TextAttack search can be added in config). The parts stay ours
(attacks/textattack_bridge.py): one nucleotide = one word, the same Hamming budget, protected spans,
GC shift and query budget as every attack, the same records, resume and self-check (engine).
"""

from __future__ import annotations

from functools import partial

from omegaconf import OmegaConf

from genoarmory.attacks.constraints import substitutions_only, threat_model_from
from genoarmory.attacks.search import AttackSpec
from genoarmory.attacks.textattack_offline import import_textattack
from genoarmory.config import cache_dir, own_callable, own_partial
from genoarmory.errors import UserError


def transformation_from(victim, cfg):
    """attack.transformations[attack.transformation]: one of the parts (attacks/recipes/parts.py)."""
    a = cfg.attack
    if a.transformation not in a.transformations:
        raise UserError(f"attack.transformation={a.transformation!r}: choose one of "
                        f"{', '.join(a.transformations)} (attack.transformations)")
    return own_partial(a.transformations[a.transformation], "transformation")(victim, cfg)


def build(victim, cfg) -> AttackSpec:
    a = cfg.attack
    if a.search not in a.searches:
        raise UserError(f"attack.search={a.search!r}: choose one of {', '.join(a.searches)} (attack.searches)")
    import_textattack(cache_dir(cfg))
    from genoarmory.attacks.textattack_bridge import TextAttackRunner, textattack_search

    threat = threat_model_from(a)
    substitutions_only(threat, "the TextAttack bridge", "one nucleotide is one word of a fixed-length text")
    chosen = OmegaConf.to_container(a.searches[a.search], resolve=True)
    search_cls = own_callable(chosen.pop("_target_", None), "search")  # TextAttack's own searches only
    runner = TextAttackRunner(victim, threat, transformation_from(victim, cfg), search_cls(**chosen))
    return AttackSpec(name=a.name, threat=threat, transformation=None,
                      targeted=a.targeted, target_label=a.target_label,
                      search=partial(textattack_search, runner))
