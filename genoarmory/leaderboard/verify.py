"""`leaderboard add` believes records, not summaries: every metric is recomputed from records.jsonl with
the same code the attack command uses (genoarmory/metrics/compute.py) and compared with summary.json.

A summary edited by hand (ASR 0.0 while the records give 0.9, `n_examples=100` beside 10 records) is
refused with the first disagreement named. DSR (written by `defend`) is checked against its definition:
1 - valid ASR where the task has a label oracle, else 1 - ASR.
"""

from __future__ import annotations

import math

from genoarmory.errors import UserError
from genoarmory.metrics.compute import attack_metrics
from genoarmory.results import Run

TOLERANCE = 1e-9
# wall time of the whole command is not in the records; everything else is
NOT_IN_RECORDS = {"wall_seconds"}


def _close(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def recomputed_metrics(run: Run, summary: dict) -> dict:
    """The summary's metrics as the records give them (raises UserError when the records are unreadable)."""
    num_labels = (summary.get("dataset") or {}).get("num_labels")
    if not isinstance(num_labels, int) or isinstance(num_labels, bool) or num_labels < 2:
        raise UserError("the summary does not say how many labels the task has (dataset.num_labels)",
                        str(run.path / "summary.json"))
    records = run.records(num_labels)
    if not records:
        raise UserError("records.jsonl is empty: there is nothing to verify the summary against",
                        str(run.path / "records.jsonl"))
    verifiable = bool((summary.get("label_check") or {}).get("verifiable", False))
    metrics = attack_metrics(records, num_labels, verifiable)
    defended = ((summary.get("defense") or {}).get("name") or "none") != "none"
    if defended or summary.get("dsr") is not None:
        metrics["dsr"] = 1.0 - (metrics["valid_asr"] if metrics.get("valid_asr") is not None else metrics["asr"])
    return metrics


def disagreements(summary: dict, metrics: dict) -> list[str]:
    """Each metric where the summary and the records differ, as 'key: summary X, records Y'."""
    out = []
    for key, value in metrics.items():
        if key in NOT_IN_RECORDS:
            continue
        if key not in summary:
            out.append(f"{key}: missing from the summary, records give {value!r}")
        elif not _close(summary[key], value):
            out.append(f"{key}: summary says {summary[key]!r}, records give {value!r}")
    return out


def check_against_records(run: Run, summary: dict) -> dict:
    """The recomputed metrics, after refusing a summary that disagrees with its records."""
    metrics = recomputed_metrics(run, summary)
    problems = disagreements(summary, metrics)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UserError(f"summary.json disagrees with records.jsonl: {problems[0]}{more}; "
                        "re-run the attack (or `merge`) to rewrite the summary", str(run.path / "summary.json"))
    return metrics
