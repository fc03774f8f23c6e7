"""`genoarmory.attack(victim, sequences, labels, attack="bertattack", **threat) -> AttackResult`.

The same path as the `attack` command (api/pipeline.attack_run): the composed, checked config, the task's
label check (attack.preserve: auto | oracle | elements | none; a task from `load_task` brings its oracle),
the engine, typed records and the summary with `asr` beside `valid_asr`. Without `run_dir` the records are
written to a temporary folder and kept in memory (`AttackResult.save(run_dir)` writes them out as a run
folder every command reads); with `run_dir` it is a run folder, resumable, exactly as the CLI's.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.results import AttackRecord


@dataclass
class AttackResult:
    records: list[AttackRecord]
    summary: dict
    config_yaml: str = field(repr=False)
    run_dir: Path | None = None

    def to_pandas(self):
        """One row per example: every record field, plus `n_edits` and `succeeded`."""
        import pandas as pd

        rows = [{**r.to_json(), "n_edits": len(r.edits), "succeeded": r.succeeded} for r in self.records]
        return pd.DataFrame(rows)

    def save(self, run_dir: str | Path) -> Path:
        """Write records.jsonl, config.yaml and summary.json into run_dir (a run folder `read`,
        `visualize`, `merge` and `leaderboard add` take). An existing run there is refused."""
        from genoarmory.results import CONFIG, RECORDS, SUMMARY, run_lock, write_json_atomic, write_records, \
            write_text_atomic

        folder = Path(run_dir)
        if (folder / RECORDS).exists() and folder.resolve() != (self.run_dir or Path("/nonexistent")).resolve():
            raise UserError("already holds a run (records.jsonl); choose another run_dir", str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        with run_lock(folder):
            write_records(folder / RECORDS, self.records)
            write_text_atomic(folder / CONFIG, self.config_yaml)
            write_json_atomic(folder / SUMMARY, self.summary)
        self.run_dir = folder
        return folder

    def print(self) -> None:
        """The one-screen summary table the CLI prints."""
        from genoarmory.report import print_summary

        print_summary(self.summary, self.run_dir)

    def __repr__(self) -> str:
        s = self.summary
        valid = "n/a (no label oracle)" if s.get("valid_asr") is None else f"{s['valid_asr']:.3f}"
        return (f"AttackResult({s['model']['name']} · {s['dataset']['name']} · {s['attack'].get('name')}: "
                f"{len(self.records)} examples, asr={s['asr']:.3f}, valid_asr={valid})")


def attack(victim, sequences=None, labels=None, attack: str = "bertattack", *, task=None, split: str | None = None,
           limit: int | None = None, seed: int | None = None, run_dir: str | Path | None = None,
           progress: bool = False, overrides: list[str] | tuple = (), **threat) -> AttackResult:
    """Attack `victim` (a genoarmory.Victim) on `sequences` with their true `labels`, or on a `task` from
    `load_task` (its `split`, `limit` examples, seeded by `seed`). `**threat` are attack.* settings
    (max_perturb_ratio=0.05, query_budget=500, preserve="none", ...); `overrides` are any other Hydra
    overrides, as on the command line."""
    from genoarmory.api.evaluation import prepare_run
    from genoarmory.api.pipeline import attack_run
    from genoarmory.results import run_lock

    settings = {**{f"attack.{k}": v for k, v in threat.items()}, "progress": bool(progress)}
    cfg, task, examples, engine = prepare_run("attack", victim, task, sequences, labels, split, limit, seed,
                                              settings, [f"attack={attack}"], overrides)
    from omegaconf import OmegaConf

    config_yaml = OmegaConf.to_yaml(cfg, resolve=True)
    if run_dir is not None:
        with run_lock(run_dir):
            summary, records = attack_run(cfg, Path(run_dir), task, engine, examples)
        return AttackResult(records, summary, config_yaml, Path(run_dir))
    with tempfile.TemporaryDirectory(prefix="genoarmory-attack-") as scratch:
        summary, records = attack_run(cfg, Path(scratch), task, engine, examples)
    return AttackResult(records, summary, config_yaml, None)
