"""Small pieces every Hydra command shares."""

from __future__ import annotations

# the attack path's seeding and selection (api/pipeline.py): certify and corrupt select exactly as attack does
from genoarmory.api.pipeline import seed_everything  # noqa: F401
from genoarmory.api.pipeline import selected_examples as seeded_selection  # noqa: F401


def evaluation_summary(metrics: dict, config: dict, victim, what: str, seconds: float) -> dict:
    """summary.json of a command that evaluates a victim without attacking it (certify, corrupt): its
    metrics, then what produced them, in the fields `read` and the leaderboard know from attack summaries."""
    from genoarmory.results import run_metadata
    from genoarmory.summary import SELECTION_KEYS

    return {**metrics, "model": victim.info, "attack": {"name": what},
            "dataset": {k: config["dataset"].get(k) for k in SELECTION_KEYS},
            "defense": config.get("defense", {"name": "none"}), "seed": config["seed"], "flags": [],
            "wall_seconds": round(seconds, 3), **run_metadata(config, victim.device)}


def write_evaluation(run_dir, rows_file: str, rows: list[dict], cfg, metrics: dict, victim, what: str,
                     started: float) -> dict:
    """The run folder of an evaluation command (the caller holds its lock): one JSON line per row in
    `rows_file`, config.yaml, and summary.json (`evaluation_summary`, wall time since `started`), each
    written atomically; returns the summary."""
    import json
    import time

    from omegaconf import OmegaConf

    from genoarmory.config import plain_config
    from genoarmory.results import CONFIG, SUMMARY, write_json_atomic, write_text_atomic

    write_text_atomic(run_dir / rows_file, "".join(json.dumps(r) + "\n" for r in rows))
    write_text_atomic(run_dir / CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
    summary = evaluation_summary(metrics, plain_config(cfg), victim, what, time.perf_counter() - started)
    write_json_atomic(run_dir / SUMMARY, summary)
    return summary
