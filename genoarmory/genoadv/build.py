"""`genoadv build`: attack runs -> GenoAdv (Parquet per config and split, dataset card, build.json).

Per task (config): train = the clean train split with each example's adversarial variants right after it
(so a prefix, as `train.max_train` takes, keeps both in proportion); validation = the same for dev;
test = the clean test split, unchanged; test_adversarial = adversarial examples made from test examples.
Within a split a sequence appears once (first occurrence wins: clean before adversarial, runs in the
order given). A sequence that is in the test split, or derived from it, is removed from train and
validation — clean duplicates of test sequences included — and counted in build.json and the card.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from omegaconf import OmegaConf

from genoarmory.data import Task, load_task
from genoarmory.errors import UserError
from genoarmory.genoadv.runs import AttackRun, adversarial_row, attack_command, check_record, read_run
from genoarmory.results import RECORDS, find_runs
from genoarmory.genoadv.schema import (ADVERSARIAL_SPLIT, CLEAN_SPLIT, SCHEMA, SPLIT_ORDER, TRAINING_SPLITS,
                                       config_name, row)
from genoarmory.progress import progress

MANIFEST = "build.json"


def build_genoadv(run_paths: list[str | Path], out: Path, data_root: str | None = None,
                  license_id: str = "cc-by-nc-4.0", command: str | None = None, show_progress: bool = True,
                  include_label_changed: bool = False) -> dict:
    """Build GenoAdv into `out`; returns the manifest (also written to out/build.json). Successes whose
    label check says the true label changed are left out unless `include_label_changed` (they are not
    adversarial examples: the model may have been right), and counted in the manifest."""
    out = Path(out)
    _check_output(out)
    runs = [read_run(p) for p in find_runs(run_paths, need=RECORDS)]
    groups: dict[str, list[AttackRun]] = {}
    for run in runs:
        groups.setdefault(run.dataset_key, []).append(run)
    names: dict[str, str] = {}
    configs: dict[str, dict] = {}
    tables: dict[str, dict[str, list[dict]]] = {}
    for key, group in groups.items():
        name = config_name(group[0].dataset_name)
        if name in names:
            raise UserError(f"two different datasets map to GenoAdv config {name!r} ({group[0].dataset_name} with "
                            f"different loader settings); build them into separate folders")
        names[name] = key
        task = load_clean_task(group[0], data_root)
        tables[name], configs[name] = assemble(task, group, show_progress, include_label_changed)
    manifest = {
        "configs": configs, "license": license_id,
        "command": command or f"python -m genoarmory genoadv build runs=[{','.join(map(str, run_paths))}] run_dir={out}",
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"), "versions": build_versions(),
    }
    _write(out, tables, manifest)
    return manifest


def _check_output(out: Path) -> None:
    """Refuse to overwrite a folder that is not an earlier GenoAdv build (or empty)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise UserError("exists and is not an earlier GenoAdv build; choose an empty or new run_dir", str(out))


def load_clean_task(run: AttackRun, data_root: str | None) -> Task:
    """The task exactly as the run loaded it (its saved config), data_root overridable for moved data."""
    cfg = OmegaConf.create(OmegaConf.to_container(run.config, resolve=False))
    if data_root:
        cfg.data_root = str(data_root)
    try:
        return load_task(cfg)
    except UserError as err:
        raise UserError(f"cannot reload the clean task of run {run.path} ({err}); pass data_root=DIR") from None


def assemble(task: Task, runs: list[AttackRun], show_progress: bool,
             include_label_changed: bool = False) -> tuple[dict[str, list[dict]], dict]:
    """Rows per GenoAdv split, and the config's entry of the manifest."""
    examples = {split: {e.id: e for e in exs} for split, exs in task.splits.items()}
    adversarial: dict[str, list[dict]] = {s: [] for s in SPLIT_ORDER}
    rejected: Counter = Counter()
    label_changed = 0  # successes left out: the task's label check says the true label changed
    run_info = []
    bar = progress(sum(len(r.records) + len(r.rejected) for r in runs), f"genoadv {config_name(task.name)}", show_progress)
    for run in runs:
        used = 0
        rejected.update(run.rejected)
        bar.update(len(run.rejected))
        for rec in run.records:
            bar.update(1)
            if not rec.succeeded:
                continue
            if rec.label_preserved is False and not include_label_changed:
                label_changed += 1
                continue
            reason = check_record(rec, run, examples)
            if reason:
                rejected[reason] += 1
                continue
            adversarial[ADVERSARIAL_SPLIT[run.split]].append(adversarial_row(rec, run))
            used += 1
        run_info.append({"path": str(run.path.resolve()), "split": run.split, "attack": run.summary.get("attack", {}).get("name"),
                         "victim": run.summary.get("model", {}).get("name"), "victim_revision": run.victim_revision,
                         "defense": (run.summary.get("defense") or {}).get("name", "none"),
                         "config_hash": run.summary.get("config_hash"), "n_records": len(run.records) + len(run.rejected),
                         "n_success": sum(r.succeeded for r in run.records), "n_accepted": used,
                         "command": attack_command(run), "versions": run.summary.get("versions"),
                         "commit": run.summary.get("commit"), "date": run.summary.get("date")})
    bar.close()

    test_derived = {e.sequence for e in task.splits.get("test", [])}
    test_derived |= {r["sequence"] for r in adversarial["test_adversarial"]}
    test_derived |= {r["original_sequence"] for r in adversarial["test_adversarial"]}
    tables, counts, leaks, duplicates = {}, {}, {}, {}
    for split in SPLIT_ORDER:
        rows = _ordered_rows(task, split, adversarial[split])
        if split in TRAINING_SPLITS:
            kept = [r for r in rows if r["sequence"] not in test_derived and r["original_sequence"] not in test_derived]
            leaks[split] = len(rows) - len(kept)
            rows = kept
        if split != "test":  # the clean test split stays exactly as the task ships it
            rows, duplicates[split] = _dedupe(rows)
        if rows:
            tables[split] = rows
            counts[split] = {"clean": sum(not r["is_adversarial"] for r in rows),
                             "adversarial": sum(r["is_adversarial"] for r in rows)}
    labels = sorted({r["label"] for rows in tables.values() for r in rows})
    entry = {"task": task.name, "num_labels": task.num_labels, "labels": labels, "splits": counts,
             "removed_as_test_derived": leaks, "duplicates_removed": duplicates, "rejected": dict(rejected),
             "label_changed_excluded": label_changed, "label_changed_included": include_label_changed,
             "lengths": _length_range(tables), "runs": run_info, "source": task.info.get("source") or task.info.get("folder")}
    return tables, entry


def _ordered_rows(task: Task, split: str, adversarial: list[dict]) -> list[dict]:
    """Clean rows in the task's order, each followed by the adversarial rows made from it."""
    task_split = {v: k for k, v in CLEAN_SPLIT.items()}.get(split)
    clean = task.splits.get(task_split, []) if task_split else []
    by_original: dict[str, list[dict]] = {}
    for r in adversarial:
        by_original.setdefault(r["record_id"], []).append(r)
    rows = []
    for e in clean:
        rows.append(row(sequence=e.sequence, label=int(e.label), is_adversarial=False, id=e.id, task=task.name,
                        source_split=task_split, edits=[], n_edits=0, perturbation_rate=0.0,
                        meta=json.dumps(e.meta, sort_keys=True, default=str)))
        rows += by_original.pop(e.id, [])
    return rows + [r for group in by_original.values() for r in group]  # test_adversarial: no clean rows


def _dedupe(rows: list[dict]) -> tuple[list[dict], int]:
    seen, kept = set(), []
    for r in rows:
        if r["sequence"] not in seen:
            seen.add(r["sequence"])
            kept.append(r)
    return kept, len(rows) - len(kept)


def _length_range(tables: dict[str, list[dict]]) -> list[int]:
    lengths = [len(r["sequence"]) for rows in tables.values() for r in rows]
    return [min(lengths), max(lengths)] if lengths else []


def build_versions() -> dict:
    import pyarrow

    import genoarmory
    from genoarmory.results import git_commit

    found = {"genoarmory": genoarmory.__version__, "pyarrow": pyarrow.__version__, "commit": git_commit()}
    try:
        import datasets

        found["datasets"] = datasets.__version__
    except ImportError:
        pass
    return found


def _write(out: Path, tables: dict[str, dict[str, list[dict]]], manifest: dict) -> None:
    """Everything into a staging folder beside `out`, then swapped in: a failed build leaves no half dataset."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from genoarmory.genoadv.card import render_card

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-building-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the dataset is meant to be shared
    try:
        for name, splits in tables.items():
            files = {}
            for split, rows in splits.items():
                path = Path(name) / f"{split}.parquet"
                (staging / name).mkdir(exist_ok=True)
                pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), staging / path)
                files[split] = path.as_posix()
            manifest["configs"][name]["data_files"] = files
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        (staging / "README.md").write_text(render_card(manifest))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
