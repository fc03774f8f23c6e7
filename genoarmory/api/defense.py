"""Defend a victim, then attack it again: the `defend` command and `genoarmory.defend()`.

1. the undefended victim (model.path, or the embedded tiny model as `attack` loads it) is attacked on
   the evaluation examples into run_dir/undefended/ — or `defense.baseline_run=DIR` is reused after
   checking it was made under the same settings and on the same examples;
2. the defense trains a copy of it (conf/defense/<name>.yaml names the trainer) and saves it in HF
   layout as run_dir/model/ (safetensors), with run_dir/defense.json; a rerun reuses a finished one;
3. the SAME attack runs on the defended victim, loaded back through load_victim (so model.quantize
   and ADFAR's detection head apply exactly as in `attack model.path=run_dir/model`), on the SAME
   examples: run_dir/records.jsonl and run_dir/summary.json, which adds `dsr` = 1 - asr, the
   undefended numbers, and the change.

A run_dir holding results this defense did not make there (an `attack` run's records, a `train` run's
model, a model defended under other settings) is refused before anything runs, unless `overwrite=true`;
the defended model is staged and renamed into place (results/files.py), never written over a model.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genoarmory.api.pipeline import attack_victim, selected_examples
from genoarmory.config import config_hash, own_callable, plain_config
from genoarmory.defenses.common import training_hash
from genoarmory.errors import UserError
from genoarmory.metrics.registry import keys, shown
from genoarmory.results import RECORDS, SUMMARY, Run, run_lock, staged_folder, write_json_atomic

MARKER = "defense.json"  # beside run_dir/model: the settings it was defended under (a rerun reuses it)

COMPARED = keys("compare")  # the metric registry's undefended -> defended comparison


def derive(cfg: DictConfig, **changes) -> DictConfig:
    """A plain copy of the composed config with dotted keys replaced."""
    out = OmegaConf.create(plain_config(cfg))
    for key, value in changes.items():
        OmegaConf.update(out, key, value, merge=False, force_add=True)
    return out


def with_dsr(summary: dict) -> dict:
    """DSR = 1 - ASR of the (defended) model, on the valid (label-preserving) ASR where the task can tell."""
    if summary.get("valid_asr") is not None:
        return {**summary, "dsr": 1.0 - summary["valid_asr"], "dsr_of": "valid_asr"}
    return {**summary, "dsr": 1.0 - summary["asr"], "dsr_of": "asr"}


def undefended_summary(cfg: DictConfig, run_dir: Path, task, examples) -> tuple[dict, Path]:
    from genoarmory.models.load import load_victim

    plain = derive(cfg, defense={"name": "none"})
    given = cfg.defense.get("baseline_run")
    if not given:
        folder = run_dir / "undefended"
        return attack_victim(plain, folder, task, load_victim(plain, task), examples), folder
    run = Run(Path(str(given)))
    folder = run.path
    if not run.has_summary:
        raise UserError("defense.baseline_run has no summary.json (run `attack` there first)", str(folder))
    summary = run.summary
    expected = config_hash(plain_config(plain))
    if summary.get("config_hash") != expected:
        theirs, ours = summary.get("config", {}), plain_config(plain)
        differ = sorted(k for k in set(theirs) | set(ours) if config_hash({k: theirs.get(k)}) != config_hash({k: ours.get(k)}))
        raise UserError(f"defense.baseline_run was made under other settings (differing: {', '.join(differ) or '?'}); "
                        "its ASR would not compare", str(folder))
    ids = [r.id for r in run.records(task.num_labels)]
    if sorted(ids) != sorted(e.id for e in examples):
        raise UserError("defense.baseline_run attacked other examples than this run selects (or is unfinished: "
                        "rerun `attack` there)", str(folder))
    return summary, folder


def finished_defense(cfg: DictConfig, run_dir: Path) -> dict | None:
    """run_dir/defense.json when run_dir holds a model defended under these settings, else None."""
    from genoarmory.results import read_json_object

    marker = run_dir / MARKER
    if not marker.exists() or not (run_dir / "model").is_dir():
        return None
    done = read_json_object(marker, "defense marker")
    return done if done.get("training_hash") == training_hash(cfg) and isinstance(done.get("training"), dict) else None


def refuse_foreign_results(cfg: DictConfig, run_dir: Path) -> None:
    """Before anything runs: results in run_dir that this defense did not make there (a finished attack
    run, a `train` run's model, a model defended under other settings) are kept unless overwrite=true."""
    if finished_defense(cfg, run_dir) is not None or bool(cfg.overwrite):
        return
    found = [name for name in (RECORDS, SUMMARY, "model", MARKER) if (run_dir / name).exists()]
    if found:
        raise UserError(f"holds results this defense did not make here ({', '.join(found)}: an attack run, a trained "
                        "model, or a model defended under other settings); pass overwrite=true to replace them, or "
                        "choose another run_dir", str(run_dir))


def defended_model(cfg: DictConfig, task, run_dir: Path) -> tuple[Path, dict]:
    """run_dir/model (trained now, or reused from a finished earlier run) and the training facts."""
    from genoarmory.defenses.common import load_context, save_defended
    from genoarmory.models.victim import pick_device

    folder, marker = run_dir / "model", run_dir / MARKER
    done = finished_defense(cfg, run_dir)
    if done is not None:
        print(f"genoarmory: reusing the defended model in {folder}", flush=True)
        return folder, done["training"]
    trainer = own_callable(cfg.defense.trainer, "trainer")
    ctx = load_context(cfg, task, run_dir, pick_device(cfg.device))
    defended = trainer(ctx)
    # overwrite=true was given if anything of another model is here (refuse_foreign_results): its results go
    marker.unlink(missing_ok=True)
    for stale in (RECORDS, SUMMARY):
        (run_dir / stale).unlink(missing_ok=True)
    with staged_folder(folder, overwrite=True) as staging:
        save_defended(ctx, defended, staging)
    training = {"clean_model": str(ctx.clean_folder.resolve()), **defended.info}
    write_json_atomic(marker, {"training_hash": training_hash(cfg), "defense": plain_config(cfg)["defense"], "training": training})
    return folder, training


def defend_configured(cfg: DictConfig, run_dir: Path) -> dict:
    """The `defend` command: the configured defense trained and attacked (module note)."""
    if cfg.defense.name == "none" or not cfg.defense.get("trainer"):
        raise UserError("defense=none has nothing to train: choose defense=at, defense=freelb or defense=adfar "
                        "(or use `attack` for the undefended victim)")
    task, examples = selected_examples(cfg)
    with run_lock(run_dir):
        refuse_foreign_results(cfg, run_dir)
        return _defend(cfg, run_dir, task, examples)


def _defend(cfg: DictConfig, run_dir: Path, task, examples) -> dict:
    from genoarmory.models.derive import run_names
    from genoarmory.models.load import load_victim
    from genoarmory.report import print_summary

    undefended, before_dir = undefended_summary(cfg, run_dir, task, examples)
    before = with_dsr(undefended)  # what the defended run's DSR compares against
    folder, training = defended_model(cfg, task, run_dir)
    defended_cfg = derive(cfg, **{"model.path": str(folder.resolve())})
    victim = load_victim(defended_cfg, task)
    # the defended model keeps the clean model's name (the defense is recorded beside it), not its folder's
    names = run_names(cfg.model)
    victim.name = names["name"]
    victim.info.update(names, defended_from=training["clean_model"])
    after = with_dsr(attack_victim(defended_cfg, run_dir, task, victim, examples))
    after["defense"] = {**after["defense"], "training": training}
    after["undefended"] = {**{k: before.get(k) for k in COMPARED}, "run_dir": str(before_dir),
                           "config_hash": before.get("config_hash")}
    after["change"] = {k: after[k] - before[k] for k in COMPARED if k in after and k in before}
    write_json_atomic(run_dir / SUMMARY, after)
    print_summary(undefended, before_dir)
    print_summary(after, run_dir)
    print_comparison(before, after)
    return after


def print_comparison(before: dict, after: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"defense {after['defense']['name']}: undefended -> defended")
    for column in ("", "undefended", "defended", "change"):
        table.add_column(column, justify="left" if not column else "right")
    for metric in shown("compare"):
        if before.get(metric.key) is None or after.get(metric.key) is None:
            continue
        change = after[metric.key] - before[metric.key]
        table.add_row(metric.label, metric.cell(before), metric.cell(after), f"{change:+.3f}")
    Console().print(table)


def defend(victim, task, defense: str = "at", attack: str = "bertattack", *, run_dir: str | Path,
           split: str | None = None, limit: int | None = None, seed: int | None = None, progress: bool = False,
           overrides: list[str] | tuple = (), **threat) -> dict:
    """`genoarmory.defend(victim, task, defense="at")`: train `defense` on a copy of `victim` with `task`'s
    training split, attack both on the same examples; returns the defended run's summary (`dsr`, the
    undefended numbers and the change). The defense trains from a model folder, so `victim` comes from
    `Victim.from_pretrained` (save an in-memory model with `save_pretrained(DIR)` first)."""
    from genoarmory.api.settings import build_config
    from genoarmory.api.tasks import API_CONFIG

    if victim.in_memory:
        raise UserError("defend trains from a model folder: save the model with model.save_pretrained(DIR) "
                        "and tokenizer.save_pretrained(DIR), then use Victim.from_pretrained(DIR)")
    made = task.info.get(API_CONFIG)
    if made is None:
        raise UserError("defend needs a task from genoarmory.load_task(...) (it trains on the task's train split)")
    settings = {**victim.settings, **made["settings"], "progress": bool(progress)}
    settings.update({f"dataset.{k}": v for k, v in {"split": split, "limit": limit, "seed": seed}.items() if v is not None})
    settings.update({f"attack.{k}": v for k, v in threat.items()})
    cfg = build_config("defend", [*victim.groups, *made["groups"], f"defense={defense}", f"attack={attack}"],
                       settings, list(overrides))
    return defend_configured(cfg, Path(run_dir))
