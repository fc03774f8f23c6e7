"""summary.json: metrics over the records, plus exactly what produced them. attack, defend and merge
all build it here, so its fields never drift.

Fields: every metric of the registry (metrics/registry.py; the reference's names where it has them:
origin_acc, after_attack_acc, asr, average_queries, dsr), `label_check` (which oracle judged label
preservation: data/oracles/check.py), `model` (name and the resolved local path of the weights), `attack`,
`dataset` (the selection: name, split, limit, seed, shard, num_labels), `defense`, `budget`, `seed`,
`config` (the full composed config), `config_hash`, `versions`, `commit`, `device`, `date`, `flags`
(e.g. clean accuracy near chance), `motif_enrichment` (where the successes' edits fell), `strand` (whether
the task is strand-agnostic, so whether rc_consistency is a requirement: data/strands.py)."""

from __future__ import annotations

import warnings

from genoarmory.data.strands import strand_note
from genoarmory.edits import kinds_label
from genoarmory.metrics.compute import attack_metrics
from genoarmory.results.records import AttackRecord

SELECTION_KEYS = ("name", "split", "limit", "seed", "shard")


def edit_budget(attack: dict) -> dict:
    """With indels, the budget also names the edit kinds, the edit distance and the length policy (a
    substitution run's budget stays as it always was)."""
    if kinds_label(attack) is None:
        return {}
    return {"edits": attack.get("edits"), "max_edit_distance": attack.get("max_edit_distance"),
            "length": attack.get("length")}


def build_summary(records: list[AttackRecord], num_labels: int, config: dict, meta: dict, model_info: dict,
                  label_check: dict | None = None) -> dict:
    """`config` is the composed config (plain data); `meta` comes from results.run_metadata; `label_check`
    is the LabelCheck's description (which oracle judged label preservation, and whether it was enforced)."""
    verifiable = bool((label_check or {}).get("verifiable", False))
    attack = dict(config.get("attack", {}))
    metrics = attack_metrics(records, num_labels, verifiable, bool(attack.get("targeted", False)))
    dataset = {k: config.get("dataset", {}).get(k) for k in SELECTION_KEYS}
    dataset["num_labels"] = num_labels
    summary = {
        **metrics,
        "model": model_info,
        "attack": attack,
        "dataset": dataset,
        "defense": dict(config.get("defense", {"name": "none"})),
        "budget": {"max_perturb_ratio": attack.get("max_perturb_ratio"), "query_budget": attack.get("query_budget"),
                   "max_length": config.get("model", {}).get("max_length"), **edit_budget(attack)},
        "seed": config.get("seed"),
        "label_check": label_check or {"preserve": None, "mode": "none", "enforced": False, "verifiable": False,
                                       "checker": None, "exact": False, "note": "no label check was run"},
        **meta,
    }
    summary.update(_enrichment(records))
    summary["strand"] = strand_note(str(dataset["name"] or ""))
    for flag in summary["flags"]:
        warnings.warn(f"{model_info.get('name')} on {dataset['name']}: {flag} "
                      f"(clean accuracy {summary['origin_acc']:.3f}); its ASR says little about robustness")
    return summary


def _enrichment(records: list[AttackRecord]) -> dict:
    """Where the successes' edits fell, for all successes and for the label-preserving ones apart (on a motif
    task, edits that rewrote the label-defining motif are not evidence that attacks find what matters)."""
    from genoarmory.analysis.enrichment import enrichment_summary

    out = {"motif_enrichment": enrichment_summary(records)}
    if any(r.label_preserved is False for r in records):
        kept = [r for r in records if r.label_preserved is not False]
        out["motif_enrichment_label_preserving"] = enrichment_summary(kept)
    return out
