"""TextFooler (Jin et al., AAAI 2020) over nucleotides.

- importance: mask each of the victim's tokens with N (the DNA 'deletion' that keeps length);
- candidates: the victim's own input-embedding neighbours (paper: N=50, cosine >= 0.1 in GenoArmory);
- filter: the victim's own encoder over a 15-token window, cosine >= 0.7 (paper's USE threshold 0.7);
- greedy: the best admissible candidate per token, accepted when it raises the goal score.
"""

from genoarmory.attacks.constraints import threat_model_from
from genoarmory.attacks.search import AttackSpec
from genoarmory.attacks.similarity import EncoderSimilarity
from genoarmory.attacks.transformations import EmbeddingNeighbours


def build(victim, cfg) -> AttackSpec:
    a = cfg.attack
    neighbours = EmbeddingNeighbours(victim.input_embeddings().weight, victim.encoder,
                                     int(a.neighbours), float(a.min_cos_sim))
    return AttackSpec(name=a.name, threat=threat_model_from(a), transformation=neighbours,
                      importance="mask", units="token", accept="improve",
                      candidate_filter=EncoderSimilarity(victim, int(a.window), float(a.min_similarity)),
                      targeted=bool(a.targeted), target_label=a.get("target_label"))
