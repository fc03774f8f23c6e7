"""What `certify` and `corrupt` return and write: an evaluation of a victim that attacks nothing.

`evaluation_summary` is summary.json of such a run: its metrics, then what produced them, in the fields
`read` and the leaderboard know from attack summaries. `EvaluationResult` holds the per-example rows
(certificates.jsonl, corruptions.jsonl), the summary and the config; `.save(run_dir)` writes the run folder
the commands write (the command and the Python API go through the same `write`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from genoarmory.errors import UserError


def evaluation_summary(metrics: dict, config: dict, victim, what: str, started: float) -> dict:
    """summary.json of an evaluation (wall time since `started`, a time.perf_counter())."""
    from genoarmory.results import run_metadata
    from genoarmory.summary import SELECTION_KEYS

    return {**metrics, "model": victim.info, "attack": {"name": what},
            "dataset": {k: config["dataset"].get(k) for k in SELECTION_KEYS},
            "defense": config.get("defense", {"name": "none"}), "seed": config["seed"], "flags": [],
            "wall_seconds": round(time.perf_counter() - started, 3), **run_metadata(config, victim.device)}


@dataclass
class EvaluationResult:
    rows: list[dict]
    summary: dict
    config_yaml: str = field(repr=False)
    run_dir: Path | None = None
    ROWS = "rows.jsonl"  # each kind's per-example file

    def to_pandas(self):
        """One row per line of the run's per-example file."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def write(self, run_dir: Path) -> None:
        """The run folder (the caller holds its lock): the rows file, config.yaml, summary.json, each atomic."""
        import json

        from genoarmory.results import CONFIG, SUMMARY, write_json_atomic, write_text_atomic

        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run_dir / self.ROWS, "".join(json.dumps(r) + "\n" for r in self.rows))
        write_text_atomic(run_dir / CONFIG, self.config_yaml)
        write_json_atomic(run_dir / SUMMARY, self.summary)
        self.run_dir = run_dir

    def save(self, run_dir: str | Path) -> Path:
        """Write the run folder `read` and `leaderboard add` take; a folder holding another run is refused."""
        from genoarmory.results import RECORDS, SUMMARY, run_lock

        folder = Path(run_dir)
        mine = self.run_dir is not None and folder.resolve() == Path(self.run_dir).resolve()
        if not mine and any((folder / name).exists() for name in (RECORDS, SUMMARY, self.ROWS)):
            raise UserError("already holds a run; choose another run_dir", str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        with run_lock(folder):
            self.write(folder)
        return folder


def prepare_run(command: str, victim, task, sequences, labels, split, limit, seed, settings: dict,
                groups: list[str], overrides) -> tuple:
    """(cfg, task, examples, engine) for `genoarmory.attack` / `certify` / `corrupt`: the command's config
    composed from the victim, the task (or in-memory sequences, always their `test` split), `groups` and
    `settings`, seeded, with the examples selected and the engine victim built."""
    from genoarmory.api.pipeline import check_own_model, checked_engine, seed_everything
    from genoarmory.api.settings import build_config
    from genoarmory.api.tasks import API_CONFIG, sequences_task
    from genoarmory.data import evaluation_examples

    groups, settings = [*victim.groups, *groups], {**victim.settings, **settings}
    if task is not None:
        made = task.info.get(API_CONFIG)
        if made is None:
            raise UserError("task= takes a task from genoarmory.load_task(...)")
        groups += made["groups"]
        settings.update(made["settings"])
    elif sequences is None:
        raise UserError("give sequences and labels, or task=genoarmory.load_task(...)")
    else:
        groups.append("dataset=csv")
        settings["dataset.name"] = "sequences"
    if sequences is not None and labels is None:
        raise UserError("give the sequences' true labels (labels=...)")
    settings.update({f"dataset.{k}": v for k, v in {"split": split, "limit": limit, "seed": seed}.items()
                     if v is not None})
    cfg = build_config(command, groups, settings, list(overrides))
    if task is not None:
        check_own_model(cfg)
    seed_everything(int(cfg.seed))
    if sequences is not None:
        num_labels = task.num_labels if task is not None else (victim.num_labels_hint() or None)
        given = sequences_task(sequences, labels, num_labels, str(cfg.sequence.policy))
        examples, task = given.split("test"), task or given
        cfg.dataset.split = "test"
    else:
        examples = evaluation_examples(cfg, task)
    engine = checked_engine(victim, cfg, task, examples)
    return cfg, task, examples, engine
