"""TextFooler (Jin et al., AAAI 2020) over nucleotides.

- importance: mask each of the victim's tokens with N (the DNA 'deletion' that keeps length);
- candidates: the victim's own input-embedding neighbours (paper: N=50, cosine >= 0.1 in GenoArmory);
- filter: the victim's own encoder over a 15-token window, cosine >= 0.7 (paper's USE threshold 0.7);
- greedy: the best admissible candidate per token, accepted when it raises the goal score.
"""

from genoarmory.attacks.constraints import substitutions_only, threat_model_from
from genoarmory.attacks.search import AttackSpec
from genoarmory.config import own_partial


def build(victim, cfg) -> AttackSpec:
    """attack.transformation (parts.embedding_neighbours) and attack.candidate_filter
    (parts.encoder_similarity) under the shared threat model."""
    a = cfg.attack
    threat = threat_model_from(a)
    substitutions_only(threat, "TextFooler", "same-width embedding neighbours, and a filter over aligned windows")
    neighbours = own_partial(a.transformation, "transformation")(victim, cfg)
    return AttackSpec(name=a.name, threat=threat, transformation=neighbours,
                      importance="mask", units="token", accept="improve",
                      candidate_filter=own_partial(a.candidate_filter, "filter")(victim, cfg),
                      targeted=a.targeted, target_label=a.target_label)
