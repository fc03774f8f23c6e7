"""`model.rc=average`: a victim that scores every sequence as the mean of its answers on both strands.

p(x) = (f(x) + f(reverse_complement(x))) / 2, so its answer is the same on either strand by construction
(rc_consistency 1): a cheap defense against attacks that exploit a strand asymmetry, attacked like any
other victim. Both strands go through one forward pass (the batch holds x and its reverse complement), so
each query costs two sequences. Gradient attacks (pgd, fimba) would see one strand only and are refused.
"""

from __future__ import annotations

import torch

from genoarmory.errors import UserError
from genoarmory.models.victim import Victim
from genoarmory.sequence import reverse_complement

RC_MODES = ("none", "average")


class RCAveragedVictim(Victim):
    def logits(self, sequences: list[str], exact: bool = False) -> torch.Tensor:
        """log of the strand-averaged probabilities (`submit`'s softmax of them gives the average back)."""
        n = len(sequences)
        both = super().logits(list(sequences) + [reverse_complement(s) for s in sequences], exact)
        probs = torch.softmax(both.float(), dim=-1)
        return torch.log((probs[:n] + probs[n:]) / 2)

    def embed(self, sequences):
        raise UserError("model.rc=average: gradient attacks (pgd, fimba) see one strand of an RC-averaged victim; "
                        "attack it with a query attack (bertattack, textfooler, random, textattack)")

    forward_from_embeddings = embed


def rc_averaged(victim: Victim) -> RCAveragedVictim:
    """The same classifier, encoder and settings, scored on both strands."""
    out = RCAveragedVictim(victim.model, victim.encoder, victim.name, victim.device, victim.batch_size,
                           {**victim.info, "rc": "average"})
    out.compiled = victim.compiled  # model.compile's forward, when the victim has one
    return out
