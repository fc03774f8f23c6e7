"""Random-mutation baseline: random positions, random bases, accepted whatever they do, until the
prediction flips or the Hamming budget is spent. Same engine, same budget, no model knowledge."""

from genoarmory.attacks.constraints import threat_model_from
from genoarmory.attacks.search import AttackSpec
from genoarmory.attacks.transformations import RandomBase


def build(victim, cfg) -> AttackSpec:
    a = cfg.attack
    return AttackSpec(name=a.name, threat=threat_model_from(a), transformation=RandomBase(),
                      importance="random", units="nucleotide", accept="always",
                      targeted=bool(a.targeted), target_label=a.get("target_label"))
