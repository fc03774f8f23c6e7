"""Random-mutation baseline: random positions, random bases, accepted whatever they do, until the
prediction flips or the Hamming budget is spent. Same engine, same budget, no model knowledge."""

from genoarmory.attacks.constraints import threat_model_from
from genoarmory.attacks.search import AttackSpec
from genoarmory.config import own_partial


def build(victim, cfg) -> AttackSpec:
    """attack.transformation (parts.random_base), every edit accepted, under the shared threat model."""
    a = cfg.attack
    return AttackSpec(name=a.name, threat=threat_model_from(a),
                      transformation=own_partial(a.transformation, "transformation")(victim, cfg),
                      importance="random", units="nucleotide", accept="always",
                      targeted=a.targeted, target_label=a.target_label)
