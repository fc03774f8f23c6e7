"""PGD on input embeddings, with two outcomes per example.

- embedding space (what the GenoArmory paper reports): does the perturbed embedding fool the model?
  Kept in each record as `embedding_status` / `embedding_probs`; the summary's `embedding_asr`.
- realised DNA: each perturbed token row projected to its nearest real token, turned into nucleotide
  edits within the Hamming budget, re-scored. Only this sequence becomes the record's `adv_sequence`;
  the summary's `asr` counts it, like every other attack's.
PGD runs batched across the examples the engine steps together (attacks/gather.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch

from genoarmory.attacks.constraints import ThreatModel, substitutions_only, threat_model_from
from genoarmory.attacks.embedding_batch import embed_batch, require_input_embeddings
from genoarmory.attacks.gather import Gathered
from genoarmory.attacks.grad_batches import GradBatches, resolve_grad_batch
from genoarmory.attacks.pgd import PGDSettings, pgd_delta
from genoarmory.attacks.realise import DnaVocabulary, realise
from genoarmory.attacks.search import AttackSpec, Outcome, decided_probs, skipped
from genoarmory.results.records import Status
from genoarmory.sequence import apply_edits


@dataclass
class PGDItem:
    sequence: str
    target: int   # the class whose cross-entropy PGD moves
    sign: float   # +1: away from it (untargeted), -1: towards it (targeted)
    protected: set
    seed: int


class PGDRealiser:
    """compute(items) for `Gathered`: PGD, the embedding-space prediction, and the realised edits."""

    def __init__(self, victim, settings: PGDSettings, threat: ThreatModel, batch_size: int | str):
        self.victim, self.settings, self.threat = victim, settings, threat
        self.batches = GradBatches(victim, resolve_grad_batch(batch_size, victim))
        self.vocab = DnaVocabulary(victim.input_embeddings().weight, victim.encoder.tokenizer)

    def __call__(self, items: list[PGDItem]) -> list[dict]:
        return self.batches.map(items, lambda it: it.sequence, self._chunk)

    def _chunk(self, items: list[PGDItem]) -> list[dict]:
        v, dev = self.victim, self.victim.device
        batch = embed_batch(v, [it.sequence for it in items], [it.protected for it in items])
        classes = torch.tensor([it.target for it in items], device=dev)
        signs = torch.tensor([it.sign for it in items], device=dev)
        delta = pgd_delta(v, batch, classes, signs, self.settings, [it.seed for it in items])
        with torch.no_grad():
            adv = batch.embeds + delta
            probs = torch.softmax(v.forward_from_embeddings(adv, batch.attention_mask, batch.input_ids).float(), -1).cpu().numpy()
        results = []
        for i, it in enumerate(items):
            rows = [(r, span) for r, span in batch.rows[i] if batch.editable[i, r, 0] > 0]
            texts = self.vocab.nearest(adv[i, [r for r, _ in rows]], [b - a for _, (a, b) in rows]) if rows else []
            moved = delta[i].norm(dim=-1)
            proposals = [(span, text, float(moved[r])) for (r, span), text in zip(rows, texts)
                         if text != it.sequence[span[0]:span[1]]]
            results.append({"embedding_probs": probs[i], "delta_norm": float(delta[i].norm()),
                            "projected_tokens": len(proposals),
                            "edits": realise(it.sequence, proposals, self.threat, it.protected)})
        return results


def pgd_search(gathered: Gathered, iters: int, spec, victim, example, goal, rng, budget):
    clean = (yield [example.sequence])[0]
    if (skip := skipped(goal, clean, example.label)) is not None:
        return skip
    target, sign = (goal.target, -1.0) if goal.target is not None else (goal.label, 1.0)
    ticket = gathered.register(PGDItem(example.sequence, target, sign,
                                       spec.threat.protected_positions(example.meta), int(rng.integers(2**62))))
    yield []  # every example of this engine step registers before the first one computes the batch
    r = gathered.result(ticket)
    emb = r["embedding_probs"]
    extra = {"embedding_status": "success" if goal.reached(emb[None])[0] else "failed",
             "embedding_pred": int(emb.argmax()), "embedding_probs": [round(float(p), 6) for p in emb],
             "embedding_delta_norm": round(r["delta_norm"], 6), "projected_tokens": r["projected_tokens"],
             "gradient_queries": iters}
    if not r["edits"] or budget.remaining() == 0:
        return Outcome(Status.FAILED, clean, extra=extra)
    adv = apply_edits(example.sequence, r["edits"])
    probs = (yield [adv])[0]
    if goal.reached(probs[None])[0]:
        probs = yield from decided_probs(victim, adv, probs)
    status = Status.SUCCESS if goal.reached(probs[None])[0] else Status.FAILED
    return Outcome(status, clean, adv, probs, r["edits"], extra)


def build(victim, cfg) -> AttackSpec:
    a = cfg.attack
    require_input_embeddings(victim, "PGD")
    settings = PGDSettings(a.norm, a.eps, a.step, a.iters, a.random_start)
    threat = threat_model_from(a)
    substitutions_only(threat, "PGD", "each perturbed embedding row becomes a token of the same width")
    realiser = PGDRealiser(victim, settings, threat, a.grad_batch_size)
    return AttackSpec(name=a.name, threat=threat, transformation=None, units="token",
                      targeted=a.targeted, target_label=a.target_label,
                      search=partial(pgd_search, Gathered(realiser), settings.iters))
