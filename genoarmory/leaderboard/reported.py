"""Reported entries: the GenoArmory paper's published figures, transcribed from its repository.

`leaderboard import-reported CSV` rewrites <board>/data/entries/reported/ from the transcription
(../shared/reference/genoarmory_reported.csv). Every entry cites its source file; values the source
leaves non-numeric stay null and are flagged; nothing is re-measured or filled in, except DSR, which is
1 - ASR by definition (DSR = the share of attacks the defended model withstood: metrics/compute.py) and is
marked as derived in the entry's notes.

The paper's protocol checks no label: its threat model is `preserve=none`, so its ASR counts edits that may
have changed the true label, and valid ASR is unknown (null). Its PGD figures are measured in embedding
space (no DNA sequence is realised), so they are stored as `embedding_asr`, never as `asr`: a realised-DNA
ASR and an embedding-space ASR are different quantities and never share a ranking.

Values that cannot both be true are flagged with the reason (`impossible_flags`): an ASR above 0 with 0
queries, a DSR of 100 % at a clean accuracy of 0 (nothing was classified correctly, so nothing was
attacked), and an ASR that disagrees with 1 - adversarial / clean accuracy.
"""

from __future__ import annotations

import csv
import math
import re
import shutil
from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.leaderboard import catalog
from genoarmory.leaderboard.add import SCHEMA_VERSION, threat_model
from genoarmory.leaderboard.entries import dump, entries_dir, entry_id, entry_path, schema_errors

PAPER = "Luo et al. 2025, GenoArmory: A Unified Evaluation Framework for Adversarial Attacks on Genomic Foundation Models"
PAPER_URL = "https://arxiv.org/abs/2505.10983"
PAPER_DATE = "2025-05"  # arXiv 2505.* = May 2025
LICENSE = "MIT (figures from the GenoArmory repository)"
COLUMNS = ("source", "model_key", "model", "attack", "defense", "task", "clean_accuracy",
           "adversarial_accuracy", "attack_success_rate", "average_queries", "flags")
# ASR should equal 1 - adv/clean when only originally-correct examples are attacked; larger gaps are shown.
CONSISTENCY_TOLERANCE = 0.05

# The paper's task names -> this project's dataset config names (conf/dataset/gue/...).
TASK_PATTERNS = [
    (re.compile(r"^mouse_?(\d)$"), "gue/mouse/{0}"),
    (re.compile(r"^tf_?(\d)$"), "gue/tf/{0}"),
    (re.compile(r"^(prom_(?:300|core)_(?:all|tata|notata))$"), "gue/prom/{0}"),
    (re.compile(r"^(H3|H4|H3K\d+\w*|H4ac)$"), "gue/EMP/{0}"),
]


def task_name(reported: str, where: str) -> str:
    for pattern, template in TASK_PATTERNS:
        match = pattern.match(reported)
        if match:
            return template.format(*match.groups())
    raise UserError(f"unknown task name {reported!r} (add it to TASK_PATTERNS)", where)


def _number(text: str, column: str, where: str) -> float | None:
    if text.strip() == "":
        return None  # the source has no numeric value here; the row's flags say so
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{column}={text!r} is not a number", where) from None
    if not math.isfinite(value):
        raise UserError(f"{column}={text!r} is not finite", where)
    return value


def _consistency_flag(clean, adv, asr) -> list[str]:
    if None in (clean, adv, asr) or clean == 0:
        return []
    expected = 1 - adv / clean
    if abs(expected - asr) <= CONSISTENCY_TOLERANCE:
        return []
    return [f"reported ASR {asr:.4g} differs from 1 - adversarial/clean accuracy = {expected:.4g} "
            f"(checked by this leaderboard)"]


def impossible_flags(clean, asr, queries) -> list[str]:
    """Reported values that contradict each other, with the reason."""
    flags = []
    if queries == 0 and asr is not None and asr > 0:
        flags.append(f"impossible: ASR {asr:.4g} with 0 queries (an attack that queried the model 0 times "
                     f"cannot have changed a prediction)")
    if clean == 0 and asr == 0:
        flags.append("impossible: DSR 100% at clean accuracy 0 (no example was classified correctly, so none "
                     "was attacked: there is no attack to withstand)")
    return flags


def entry_from_row(row: dict, where: str) -> dict:
    keys = catalog.catalog()["reported_model_keys"]
    if row["model_key"] not in keys:
        raise UserError(f"unknown model_key {row['model_key']!r}", where)
    model, attack, defense = keys[row["model_key"]], row["attack"], row["defense"]
    clean = _number(row["clean_accuracy"], "clean_accuracy", where)
    adv = _number(row["adversarial_accuracy"], "adversarial_accuracy", where)
    asr = _number(row["attack_success_rate"], "attack_success_rate", where)
    queries = _number(row["average_queries"], "average_queries", where)
    embedding = attack == "pgd"
    metrics = {"origin_acc": clean, "after_attack_acc": adv, "asr": None if embedding else asr,
               "average_queries": queries, "valid_asr": None}
    notes = ["The paper's protocol checks no label (preserve=none): valid ASR is unknown."]
    if embedding:
        metrics["embedding_asr"] = asr
        notes.append("PGD: the paper's ASR is measured in embedding space (no DNA sequence is realised); it is "
                     "stored as embedding_asr and its accuracy under attack is the embedding-space one.")
    if defense != "none":
        metrics["dsr"] = None if asr is None else round(1 - asr, 10)
        notes.append("dsr is derived here as 1 - asr (its definition); the source reports asr.")
    flags = ([f.strip() for f in row["flags"].split(";") if f.strip()] + _consistency_flag(clean, adv, asr)
             + impossible_flags(clean, asr, queries))
    if embedding:
        flags.append("embedding-space ASR (paper's PGD): not comparable with a realised-DNA ASR")
    entry = {
        "schema_version": SCHEMA_VERSION,
        "source": "reported",
        "model": model,
        "model_hub_id": row["model"],
        "task": task_name(row["task"], where),
        "attack": attack,
        "defense": defense,
        "metrics": metrics,
        "budget": {"max_perturb_ratio": None, "query_budget": None},
        "threat": threat_model(attack, {"max_perturb_ratio": None, "query_budget": None}, "none", None,
                               "embedding" if embedding else "dna"),
        "label_check": {"preserve": "none", "mode": "none", "enforced": False, "verifiable": False,
                        "note": "the paper's protocol: no label check"},
        "n_examples": None,
        "flags": flags,
        "date": PAPER_DATE,
        "citation": {"text": f"{PAPER}. arXiv 2505.10983. Transcribed from: {row['source']}.",
                     "url": PAPER_URL, "license": LICENSE, "source_file": row["source"],
                     "original_task_name": row["task"], "original_model_key": row["model_key"]},
        "links": [{"label": "GenoArmory paper", "url": PAPER_URL}]
                 + catalog.entry_links(model, attack, defense, row["model"]),
    }
    entry["notes"] = " ".join(notes)
    return entry


def read_reported(csv_path: Path) -> list[dict]:
    """All reported entries of the CSV, schema-checked, one per key."""
    if not csv_path.is_file():
        raise UserError("reported-figures CSV not found", str(csv_path))
    entries, seen = [], {}
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        missing = set(COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise UserError(f"CSV lacks columns {sorted(missing)}", f"{csv_path}:1")
        for line, row in enumerate(reader, start=2):
            where = f"{csv_path}:{line}"
            entry = entry_from_row(row, where)
            errors = schema_errors(entry)
            if errors:
                raise UserError(f"row makes an invalid entry: {errors[0]}", where)
            key = entry_id(entry)
            if key in seen:
                raise UserError(f"second row for {key} (first at line {seen[key]})", where)
            seen[key] = line
            entries.append(entry)
    return entries


def import_reported(csv_path: str | Path, board: str | Path) -> int:
    """Replace the board's reported entries with those of the CSV; returns how many were written."""
    entries = read_reported(Path(csv_path))  # everything is checked before anything is removed
    target = entries_dir(Path(board)) / "reported"
    if target.exists():
        shutil.rmtree(target)
    for entry in entries:
        path = entry_path(Path(board), entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(entry))
    return len(entries)
