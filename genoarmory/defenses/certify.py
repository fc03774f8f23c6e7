"""Certify examples with the smoothed victim: Cohen et al.'s CERTIFY with the discrete certificate.

For each example: the predicted class is the most frequent on `n0` noisy copies; its count on `n` other
noisy copies gives the Clopper-Pearson lower bound pA; pA <= 1/2 abstains (radius -1), otherwise the
certified Hamming radius is the largest r (up to the largest radius asked for) that certificate.py
certifies. All noisy copies of a group of examples go through the base classifier in batches of its own
size, on its device. One row per example (certificates.jsonl); `certified_summary` rebuilds every reported
number from the rows alone.
"""

from __future__ import annotations

import numpy as np
import torch

from genoarmory.data import Example
from genoarmory.defenses.certificate import certified_radius, clopper_pearson_lower, vote_counts
from genoarmory.defenses.smoothing import ESTIMATE_STREAM, SELECT_STREAM, SmoothedVictim

ABSTAIN = -1
ROW_KEYS = ("id", "label", "base_pred", "vote", "prediction", "count", "n", "p_lower", "radius")


@torch.no_grad()  # not inference_mode: see Victim._launch
def certify_examples(smooth: SmoothedVictim, examples: list[Example], n0: int, n: int, alpha: float,
                     max_radius: int, progress=None) -> list[dict]:
    group = max(1, (smooth.inner_batch * 4) // (n0 + n))  # examples whose copies are in flight together
    base = smooth.base_predictions
    rows = []
    for start in range(0, len(examples), group):
        chunk = examples[start:start + group]
        seqs = [e.sequence for e in chunk]
        select = vote_counts(base(seqs, n0, SELECT_STREAM).cpu().numpy(), smooth.num_labels)
        estimate = vote_counts(base(seqs, n, ESTIMATE_STREAM).cpu().numpy(), smooth.num_labels)
        plain = super(SmoothedVictim, smooth).logits(seqs).argmax(-1).cpu().numpy()
        for e, sel, est, clean in zip(chunk, select, estimate, plain):
            top = int(sel.argmax())
            p_lower = clopper_pearson_lower(int(est[top]), n, alpha)
            radius = certified_radius(p_lower, smooth.noise, max_radius)
            rows.append({"id": e.id, "label": int(e.label), "base_pred": int(clean), "vote": top,
                         "prediction": top if radius >= 0 else ABSTAIN, "count": int(est[top]), "n": int(n),
                         "p_lower": round(p_lower, 6), "radius": radius})
        if progress is not None:
            progress.update(len(chunk))
    return rows


def certified_summary(rows: list[dict], radii: list[int]) -> dict:
    """Certified accuracy at each radius: correct, not abstained, and certified at least that far; beside
    it the base classifier's clean accuracy (what smoothing costs) and the abstention rate."""
    n = len(rows)
    labels = np.array([r["label"] for r in rows])
    pred = np.array([r["prediction"] for r in rows])
    radius = np.array([r["radius"] for r in rows])
    correct = pred == labels
    certified = {str(r): float((correct & (radius >= r)).mean()) if n else 0.0 for r in radii}
    out = {"n_examples": n, "certified_accuracy": certified,
           "origin_acc": float((np.array([r["base_pred"] for r in rows]) == labels).mean()) if n else 0.0,
           "smoothed_acc": float((np.array([r["vote"] for r in rows]) == labels).mean()) if n else 0.0,
           "abstain_rate": float((pred == ABSTAIN).mean()) if n else 0.0,
           "mean_certified_radius": float(np.where(correct, np.maximum(radius, 0), 0).mean()) if n else 0.0}
    for r in (0, 1, 2, 3):
        if str(r) in certified:
            out[f"certified_acc_r{r}"] = certified[str(r)]
    return out
