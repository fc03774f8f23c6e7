"""Every metric's computation, once (their names and meanings: registry.py).

Definitions: clean accuracy; accuracy under attack; ASR = successes / originally-correct
examples; DSR = 1 - ASR on the defended model; queries averaged over attacked examples (successes and
failures); perturbation rate in nucleotides (edit distance / length) over successes; MCC and macro-F1 clean and
under attack, as GUE computes them. A clean accuracy within 10 points of chance is flagged.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np
from sklearn.metrics import f1_score, matthews_corrcoef

from genoarmory.edits import cost
from genoarmory.results.records import AttackRecord, spent

CHANCE_MARGIN = 0.10


def classification_metrics(labels: Iterable[int], preds: Iterable[int]) -> dict:
    y, p = np.asarray(list(labels)), np.asarray(list(preds))
    if len(y) == 0:
        return {"accuracy": float("nan"), "f1": float("nan"), "mcc": float("nan"), "n_test": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MCC of a constant predictor warns; it is 0 by definition
        return {
            "accuracy": float((y == p).mean()),
            "f1": float(f1_score(y, p, average="macro", zero_division=0)),
            "mcc": float(matthews_corrcoef(y, p)),
            "n_test": int(len(y)),
        }


def chance_level(labels: Iterable[int], num_labels: int) -> float:
    """Accuracy of always predicting the majority class (>= 1/num_labels)."""
    y = np.asarray(list(labels))
    if len(y) == 0:
        return 1.0 / num_labels
    return float(np.bincount(y, minlength=num_labels).max() / len(y))


def near_chance(accuracy: float, labels: Iterable[int], num_labels: int) -> bool:
    return accuracy < chance_level(labels, num_labels) + CHANCE_MARGIN


def attack_metrics(records: list[AttackRecord], num_labels: int, label_verifiable: bool = True,
                   targeted: bool = False) -> dict:
    """Summary metrics from AttackRecords (field names kept from the reference where they exist)."""
    n = len(records)
    labels = [r.label for r in records]
    clean = [r.clean_pred for r in records]
    adv = [r.final_pred for r in records]
    attacked = [r for r in records if r.attacked]
    success = [r for r in attacked if r.succeeded]
    clean_m, adv_m = classification_metrics(labels, clean), classification_metrics(labels, adv)
    out = {
        "n_examples": n,
        "n_attacked": len(attacked),
        "n_success": len(success),
        "origin_acc": clean_m["accuracy"],
        "after_attack_acc": adv_m["accuracy"],
        "asr": len(success) / len(attacked) if attacked else 0.0,
        "average_queries": float(np.mean([r.queries for r in attacked])) if attacked else 0.0,
        "perturbation_rate": float(np.mean([r.perturbation_rate for r in success])) if success else 0.0,
        "average_edits": float(np.mean([spent(r.edits, r.length_fit) for r in success])) if success else 0.0,
        "average_indel_bases": float(np.mean([indel_bases(r) for r in success])) if success else 0.0,
        "clean_mcc": clean_m["mcc"],
        "adv_mcc": adv_m["mcc"],
        "clean_f1": clean_m["f1"],
        "adv_f1": adv_m["f1"],
        "seconds": float(sum(r.seconds for r in records)),
    }
    out.update(white_box_metrics(attacked))
    out.update(label_metrics(records, attacked, success, label_verifiable))
    out.update(strand_metrics(records, attacked, success, targeted))
    out["flags"] = ["clean accuracy near chance"] if n and near_chance(out["origin_acc"], labels, num_labels) else []
    return out


def indel_bases(record: AttackRecord) -> int:
    """Bases a record's own insertions and deletions changed (its length fit aside)."""
    fit = set(record.length_fit or [])
    return cost(e for e in record.edits if (not e[1] or not e[2]) and e not in fit)


def label_metrics(records: list[AttackRecord], attacked: list[AttackRecord], success: list[AttackRecord],
                  verifiable: bool = True) -> dict:
    """Honest success: a success counts only when the true label survived (its record's label check).

    `label_changed`: successes whose oracle label (or label-defining elements) changed — the model may have
    been right. `valid_asr`: label-preserving successes / originally-correct examples. `valid_after_attack_acc`:
    accuracy when only label-preserving successes count as errors. None when no success carries a check
    (label preservation not verifiable on this task). `n_skipped_target`: targeted attacks' examples already
    in the target class (skipped, outside ASR's denominator)."""
    out = {"n_skipped_target": sum(r.skip_reason == "already_target" for r in records)}
    checked = [r for r in success if r.label_preserved is not None]
    if not verifiable or len(checked) < len(success):
        out.update(label_changed=None, valid_asr=None, valid_after_attack_acc=None)
        return out
    changed = sum(r.label_preserved is False for r in checked)
    valid = len(success) - changed
    out["label_changed"] = changed
    out["valid_asr"] = valid / len(attacked) if attacked else 0.0
    correct = sum(r.clean_pred == r.label for r in records) - valid
    out["valid_after_attack_acc"] = correct / len(records) if records else float("nan")
    return out


def white_box_metrics(attacked: list[AttackRecord]) -> dict:
    """Gradient attacks' extra numbers, present only when their records carry them.

    `embedding_asr`: PGD's success in embedding space (what the GenoArmory paper reports), over the same
    originally-correct examples as `asr`, which counts only perturbations realised as DNA sequences
    (repeated as `realised_asr` so a reader of PGD's summary sees which is which).
    `average_gradient_queries`: forward+backward passes per attacked example (PGD steps, attribution
    steps), which `average_queries` (scored sequences) does not count.
    """
    out = {}
    embedded = [r for r in attacked if r.embedding_status is not None]
    if embedded:
        out["embedding_asr"] = sum(r.embedding_status == "success" for r in embedded) / len(embedded)
        out["realised_asr"] = sum(r.succeeded for r in embedded) / len(embedded)  # == asr
    graded = [r.gradient_queries for r in attacked if r.gradient_queries is not None]
    if graded:
        out["average_gradient_queries"] = float(np.mean(graded))
    return out


def strand_metrics(records: list[AttackRecord], attacked: list[AttackRecord], success: list[AttackRecord],
                   targeted: bool = False) -> dict:
    """The reverse strand (records' rc_probs / adv_rc_probs, attacks/strands.py), where records carry it.

    `rc_consistency`: fraction of examples whose prediction on the reverse complement of the original is
    the prediction on the original. `rc_prob_gap`: mean total-variation distance between the two answers
    (|p - p'| of the positive class on a binary task). `both_strands_asr`: successes that fool the model on
    the reverse complement of their adversarial sequence as well (the same wrong class when targeted, any
    wrong class otherwise) / originally-correct examples; equal to `asr` under attack.goal=both_strands."""
    out: dict = {}
    paired = [r for r in records if r.rc_probs is not None]
    if paired:
        forward = np.asarray([r.clean_probs for r in paired])
        reverse = np.asarray([r.rc_probs for r in paired])
        out["rc_consistency"] = float((forward.argmax(1) == reverse.argmax(1)).mean())
        out["rc_prob_gap"] = float(0.5 * np.abs(forward - reverse).sum(1).mean())
        out["n_rc_checked"] = len(paired)
    if attacked and all(r.adv_rc_probs is not None for r in success):
        def fooled(r: AttackRecord) -> bool:
            other = int(np.argmax(r.adv_rc_probs))
            return other == r.adv_pred if targeted else other != r.label
        out["both_strands_asr"] = sum(fooled(r) for r in success) / len(attacked)
    return out
