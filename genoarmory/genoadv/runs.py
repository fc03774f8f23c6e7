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

from genoarmory.config import CONF_DIR, data_config
from genoarmory.errors import UserError
from genoarmory.genoadv.schema import row
from genoarmory.results import CONFIG, RECORDS, SUMMARY, AttackRecord, Run

SOURCE_SPLITS = {"train": "train", "dev": "dev", "test": "test", "test_adversarial": "test"}
_SNAPSHOT = re.compile(r"/snapshots/([0-9a-f]{40})(/|$)")


@dataclass
class AttackRun:
    path: Path
    records: list[AttackRecord]
    rejected: list[str]             # why each invalid record line was rejected (RecordError messages)
    summary: dict
    config: DictConfig              # the run's config.yaml, checked as data (config.load_saved_config)
    split: str                      # the split its examples came from: train | dev | test
    victim_revision: str | None

    @property
    def dataset_name(self) -> str:
        return str(self.config.dataset.name)

    @property
    def dataset_key(self) -> str:
        """Runs on the same data (name and loader settings) feed the same GenoAdv config."""
        loader = OmegaConf.to_container(self.config.dataset.loader, resolve=False)
        return json.dumps({"name": self.dataset_name, "loader": loader}, sort_keys=True)


def read_run(path: Path) -> AttackRun:
    run = Run(path)
    for name in (RECORDS, SUMMARY, CONFIG):
        if not (path / name).is_file():
            raise UserError(f"{name} missing: not a finished attack run (rerun the attack to complete it)", str(path))
    config = data_config(run.config)
    split = str(config.dataset.split)
    if split not in SOURCE_SPLITS:
        raise UserError(f"dataset.split={split!r}: GenoAdv knows the splits {', '.join(SOURCE_SPLITS)}", str(path))
    rejected: list[str] = []
    records = run.records(run.num_labels, invalid=lambda line, why: rejected.append(why))
    return AttackRun(path, records, rejected, run.summary, config, SOURCE_SPLITS[split],
                     victim_revision(run.summary.get("model", {}), config))


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


def check_record(rec: AttackRecord, run: AttackRun, examples: dict[str, dict[str, object]]) -> str | None:
    """None when the success record is sound; else why it is rejected. (Its own consistency — edits rebuild
    the adversarial sequence, fields in range — was checked when it was read: `AttackRecord.from_json`.)"""
    if rec.config_hash != run.summary.get("config_hash"):
        return "record written under another configuration than its run's summary"
    prefix = rec.id.split(":", 1)[0]
    if prefix in SOURCE_SPLITS and SOURCE_SPLITS[prefix] != run.split:
        return f"record id says split {prefix}, the run says {run.split}"
    original = examples.get(str(run.config.dataset.split), {}).get(rec.id)
    if original is None or original.sequence != rec.sequence or original.label != rec.label:
        return "original is not the task's example of that id (data changed since the attack?)"
    if set(rec.adv_sequence) - set("ACGTN"):
        return "adversarial sequence is not DNA"
    probs = rec.adv_probs
    if max(range(len(probs)), key=probs.__getitem__) != rec.adv_pred:
        return "stored probabilities disagree with adv_pred"
    attack = run.summary.get("attack") or {}
    target = attack.get("target_label") if attack.get("targeted") else None
    if (rec.adv_pred != target) if target is not None else (rec.adv_pred == rec.label):
        return "stored adversarial prediction does not reach the attack's goal"
    return None


def adversarial_row(rec: AttackRecord, run: AttackRun) -> dict:
    s, model, attack = run.summary, run.summary.get("model", {}), run.summary.get("attack", {})
    model_config = OmegaConf.to_container(run.config.model, resolve=False)
    model_config["path"] = model.get("path") or model_config.get("path")
    probs = [float(p) for p in rec.adv_probs]
    budget = s.get("budget") or {}
    return row(
        sequence=rec.adv_sequence, label=rec.label, is_adversarial=True,
        id=f"{s.get('config_hash')}/{rec.id}", task=run.dataset_name, source_split=run.split,
        original_sequence=rec.sequence,
        edits=[{"position": int(p), "ref": r, "alt": a} for p, r, a in rec.edits],
        n_edits=len(rec.edits), perturbation_rate=rec.perturbation_rate,
        attack=str(attack.get("name") or rec.attack), victim=str(model.get("name")),
        victim_path=model.get("path"), victim_revision=run.victim_revision,
        victim_config=json.dumps(model_config, sort_keys=True), defense=str((s.get("defense") or {}).get("name", "none")),
        max_perturb_ratio=_float(budget.get("max_perturb_ratio", attack.get("max_perturb_ratio"))),
        query_budget=_int(budget.get("query_budget", attack.get("query_budget"))),
        targeted=bool(attack.get("targeted", False)),
        target_label=_int(attack.get("target_label")) if attack.get("targeted") else None,
        queries=rec.queries, clean_pred=rec.clean_pred, adv_pred=rec.adv_pred,
        adv_confidence=probs[rec.adv_pred], adv_probs=probs, record_id=rec.id,
        config_hash=s.get("config_hash"), seed=rec.seed,
        meta=json.dumps(rec.meta, sort_keys=True),
        label_preserved=rec.label_preserved,
        label_check=json.dumps(label_check_of(s), sort_keys=True),
    )


def label_check_of(summary: dict) -> dict:
    """The run's label check, short: what decided `label_preserved` (summary.json's label_check)."""
    check = summary.get("label_check") or {}
    checker = check.get("checker") or {}
    return {"mode": check.get("mode", "none"), "enforced": bool(check.get("enforced")),
            "exact": bool(check.get("exact")), "checker": checker.get("name")}


def _int(value) -> int | None:
    return None if value is None else int(value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def attack_command(run: AttackRun) -> str:
    """The command line that reproduces the run (the exact config is in its config.yaml)."""
    c = run.config
    defense = str(c.get("defense", {}).get("name", "none"))
    parts = ["python -m genoarmory", "defend" if defense != "none" else "attack"]
    if (CONF_DIR / "model" / f"{c.model.name}.yaml").is_file():  # a model of conf/; else model=local, named by its folder
        parts.append(f"model={c.model.name}")
    if c.model.get("path"):
        parts.append(f"model.path={c.model.path}")
    if (CONF_DIR / "dataset" / f"{c.dataset.name}.yaml").is_file():
        parts.append(f"dataset={c.dataset.name}")
    else:  # the user's own file (dataset=csv / fasta: named after the file)
        parts += [f"dataset={'csv' if c.dataset.get('loader', {}).get('_target_', '').endswith('load_user_csv') else 'fasta'}",
                  f"dataset.path={c.dataset.get('path')}"]
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
