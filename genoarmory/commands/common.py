"""Small pieces every Hydra command shares."""

from __future__ import annotations

from genoarmory.api.pipeline import seed_everything  # the attack path's (one seeding)


def seeded_selection(cfg):
    """(task, evaluation examples) of the composed config, seeded; a UserError when nothing is selected."""
    from genoarmory.data import evaluation_examples, load_task
    from genoarmory.errors import UserError

    seed_everything(int(cfg.seed))
    task = load_task(cfg)
    examples = evaluation_examples(cfg, task)
    if not examples:
        raise UserError(f"no examples selected from {cfg.dataset.name} (split {cfg.dataset.split})")
    return task, examples


def evaluation_summary(metrics: dict, config: dict, victim, what: str, seconds: float) -> dict:
    """summary.json of a command that evaluates a victim without attacking it (certify, corrupt): its
    metrics, then what produced them, in the fields `read` and the leaderboard know from attack summaries."""
    from genoarmory.results import run_metadata
    from genoarmory.summary import SELECTION_KEYS

    return {**metrics, "model": victim.info, "attack": {"name": what},
            "dataset": {k: config["dataset"].get(k) for k in SELECTION_KEYS},
            "defense": config.get("defense", {"name": "none"}), "seed": config["seed"], "flags": [],
            "wall_seconds": round(seconds, 3), **run_metadata(config, victim.device)}
