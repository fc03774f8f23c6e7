"""Attack runs as GenoAdv's input: find them, read them, check every record, turn successes into rows.

A run folder is what `attack` (or `defend`) wrote: records.jsonl, summary.json and config.yaml. The
engine already self-checked each success with a fresh forward pass when it was made; here every record
is checked again without a model — its edits rebuild its adversarial sequence, its stored prediction
leaves the label, its original is the task's example of that id (the data has not changed since), and
it belongs to the run's configuration — and rejected with a reason otherwise.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genoarmory.errors import UserError
from genoarmory.genoadv.schema import row
from genoarmory.results import RECORDS, SUMMARY, read_records
from genoarmory.sequence import apply_edits

CONFIG_FILE = "config.yaml"
SOURCE_SPLITS = {"train": "train", "dev": "dev", "test": "test", "test_adversarial": "test"}
_SNAPSHOT = re.compile(r"/snapshots/([0-9a-f]{40})(/|$)")


@dataclass
class AttackRun:
    path: Path
    records: list[dict]
    summary: dict
    config: DictConfig
    split: str                      # the split its examples came from: train | dev | test
    victim_revision: str | None

    @property
    def dataset_name(self) -> str:
        return str(self.config.dataset.name)

    @property
    def dataset_key(self) -> str:
        """Runs on the same data (name and loader settings) feed the same GenoAdv config."""
        loader = OmegaConf.to_container(self.config.dataset.loader, resolve=True)
        return json.dumps({"name": self.dataset_name, "loader": loader}, sort_keys=True)


def find_runs(paths: list[str | Path]) -> list[Path]:
    """Each path is a run folder, or a folder holding runs (a sweep): every records.jsonl below it."""
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            raise UserError("not a folder (expected an attack run folder)", str(p))
        below = [p] if (p / RECORDS).is_file() else sorted(r.parent for r in p.rglob(RECORDS))
        if not below:
            raise UserError(f"no {RECORDS} here or below: not an attack run", str(p))
        found += [r for r in below if r not in found]
    return found


def read_run(path: Path) -> AttackRun:
    for name in (RECORDS, SUMMARY, CONFIG_FILE):
        if not (path / name).is_file():
            raise UserError(f"{name} missing: not a finished attack run (rerun the attack to complete it)", str(path))
    try:
        summary = json.loads((path / SUMMARY).read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"broken JSON ({err.msg}, line {err.lineno})", str(path / SUMMARY)) from None
    config = OmegaConf.load(path / CONFIG_FILE)
    split = str(config.dataset.split)
    if split not in SOURCE_SPLITS:
        raise UserError(f"dataset.split={split!r}: GenoAdv knows the splits {', '.join(SOURCE_SPLITS)}", str(path))
    return AttackRun(path, read_records(path / RECORDS), summary, config, SOURCE_SPLITS[split],
                     victim_revision(summary.get("model", {}), config))


def victim_revision(model_info: dict, config: DictConfig) -> str | None:
    """The hub commit of a snapshot folder, else a digest of the weight files (so a retrained local
    model is noticed), else the configured revision."""
    path = str(model_info.get("path") or "")
    commit = _SNAPSHOT.search(path)
    if commit:
        return commit.group(1)
    weights = sorted(Path(path).glob("*.safetensors")) if path and Path(path).is_dir() else []
    if weights:
        return "sha256:" + weights_digest(weights)
    revision = config.model.get("revision")
    return str(revision) if revision else None


def weights_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        with f.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def check_record(rec: dict, run: AttackRun, examples: dict[str, dict[str, object]]) -> str | None:
    """None when the success record is sound; else why it is rejected."""
    if rec.get("config_hash") != run.summary.get("config_hash"):
        return "record written under another configuration than its run's summary"
    prefix = str(rec["id"]).split(":", 1)[0]
    if prefix in SOURCE_SPLITS and SOURCE_SPLITS[prefix] != run.split:
        return f"record id says split {prefix}, the run says {run.split}"
    original = examples.get(str(run.config.dataset.split), {}).get(rec["id"])
    if original is None or original.sequence != rec.get("sequence") or original.label != rec.get("label"):
        return "original is not the task's example of that id (data changed since the attack?)"
    adv = rec.get("adv_sequence")
    if not adv or set(adv) - set("ACGTN"):
        return "adversarial sequence missing or not DNA"
    try:
        rebuilt = apply_edits(rec["sequence"], [tuple(e) for e in rec.get("edits") or []])
    except (ValueError, IndexError, TypeError):
        rebuilt = None
    if rebuilt != adv or not rec.get("edits"):
        return "edit list does not rebuild the adversarial sequence"
    probs = rec.get("adv_probs") or []
    if not probs or max(range(len(probs)), key=probs.__getitem__) != rec.get("adv_pred"):
        return "stored probabilities disagree with adv_pred"
    attack = run.summary.get("attack") or {}
    target = attack.get("target_label") if attack.get("targeted") else None
    if (rec["adv_pred"] != target) if target is not None else (rec["adv_pred"] == rec["label"]):
        return "stored adversarial prediction does not reach the attack's goal"
    return None


def adversarial_row(rec: dict, run: AttackRun) -> dict:
    s, model, attack = run.summary, run.summary.get("model", {}), run.summary.get("attack", {})
    model_config = OmegaConf.to_container(run.config.model, resolve=True)
    model_config["path"] = model.get("path") or model_config.get("path")
    probs = [float(p) for p in rec["adv_probs"]]
    budget = s.get("budget") or {}
    return row(
        sequence=rec["adv_sequence"], label=int(rec["label"]), is_adversarial=True,
        id=f"{s.get('config_hash')}/{rec['id']}", task=run.dataset_name, source_split=run.split,
        original_sequence=rec["sequence"],
        edits=[{"position": int(p), "ref": r, "alt": a} for p, r, a in rec["edits"]],
        n_edits=len(rec["edits"]), perturbation_rate=float(rec.get("perturbation_rate") or 0.0),
        attack=str(attack.get("name") or rec.get("attack")), victim=str(model.get("name")),
        victim_path=model.get("path"), victim_revision=run.victim_revision,
        victim_config=json.dumps(model_config, sort_keys=True), defense=str((s.get("defense") or {}).get("name", "none")),
        max_perturb_ratio=_float(budget.get("max_perturb_ratio", attack.get("max_perturb_ratio"))),
        query_budget=_int(budget.get("query_budget", attack.get("query_budget"))),
        targeted=bool(attack.get("targeted", False)),
        target_label=_int(attack.get("target_label")) if attack.get("targeted") else None,
        queries=_int(rec.get("queries")), clean_pred=_int(rec.get("clean_pred")), adv_pred=int(rec["adv_pred"]),
        adv_confidence=probs[int(rec["adv_pred"])], adv_probs=probs, record_id=str(rec["id"]),
        config_hash=s.get("config_hash"), seed=_int(rec.get("seed", s.get("seed"))),
        meta=json.dumps(rec.get("meta") or {}, sort_keys=True),
    )


def _int(value) -> int | None:
    return None if value is None else int(value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def attack_command(run: AttackRun) -> str:
    """The command line that reproduces the run (the exact config is in its config.yaml)."""
    c = run.config
    defense = str(c.get("defense", {}).get("name", "none"))
    parts = ["python -m genoarmory", "defend" if defense != "none" else "attack", f"model={c.model.name}"]
    if c.model.get("path"):
        parts.append(f"model.path={c.model.path}")
    parts.append(f"dataset={c.dataset.name}")
    if str(c.dataset.name).startswith("gue/"):
        parts.append(f"data_root={c.data_root}")
    parts += [f"attack={c.attack.name}", f"attack.max_perturb_ratio={c.attack.get('max_perturb_ratio')}"]
    if c.attack.get("query_budget") is not None:
        parts.append(f"attack.query_budget={c.attack.query_budget}")
    if defense != "none":
        parts.append(f"defense={defense}")
    parts += [f"dataset.split={c.dataset.split}", f"dataset.limit={c.dataset.get('limit')}",
              f"dataset.seed={c.dataset.get('seed', 0)}"]
    if c.dataset.get("shard"):
        parts.append(f"dataset.shard={c.dataset.shard}")
    parts.append(f"seed={c.seed}")
    return " ".join(str(p) for p in parts)
