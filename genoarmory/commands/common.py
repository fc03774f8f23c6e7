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
