"""summary.json: metrics over the records, plus exactly what produced them. attack, defend and merge
all build it here, so its fields (DESIGN.md; the reference's names where they exist) never drift."""

from __future__ import annotations

import warnings

from genoarmory.metrics.compute import attack_metrics

SELECTION_KEYS = ("name", "split", "limit", "seed", "shard")


def build_summary(records: list[dict], num_labels: int, config: dict, meta: dict, model_info: dict) -> dict:
    """`config` is the composed config (plain data); `meta` comes from results.run_metadata."""
    metrics = attack_metrics(records, num_labels)
    attack = dict(config.get("attack", {}))
    dataset = {k: config.get("dataset", {}).get(k) for k in SELECTION_KEYS}
    dataset["num_labels"] = num_labels
    summary = {
        **metrics,
        "model": model_info,
        "attack": attack,
        "dataset": dataset,
        "defense": dict(config.get("defense", {"name": "none"})),
        "budget": {"max_perturb_ratio": attack.get("max_perturb_ratio"), "query_budget": attack.get("query_budget"),
                   "max_length": config.get("model", {}).get("max_length")},
        "seed": config.get("seed"),
        **meta,
    }
    summary.update(_enrichment(records))
    for flag in summary["flags"]:
        warnings.warn(f"{model_info.get('name')} on {dataset['name']}: {flag} "
                      f"(clean accuracy {summary['origin_acc']:.3f}); its ASR says little about robustness")
    return summary


def _enrichment(records: list[dict]) -> dict:
    try:
        from genoarmory.analysis.enrichment import enrichment_summary
    except ImportError:
        return {}
    return {"motif_enrichment": enrichment_summary(records)}
