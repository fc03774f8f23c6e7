"""`leaderboard add` of a certify, corrupt or transfer run believes its per-example files, not its summary.

- certify: every row of certificates.jsonl is re-derived from its own count (Clopper-Pearson bound at the
  run's alpha, Lee et al.'s certificate at its noise: defenses/certificate.py), then every reported number is
  rebuilt from the rows (defenses/certify.certified_summary) and compared with summary.json;
- corrupt: every corrupted read of corruptions.jsonl is made again from its clean read (the same seeded
  profile: data/corruptions.py), then the table and its means are rebuilt (metrics/corruption.py);
- transfer: each source run's summary is checked against its records.jsonl (verify.py), and the whole
  matrix is scored again from those records with the runs' own weights (genoarmory/transferability.py).
A disagreement is refused with the first one named.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from genoarmory.errors import UserError, located

CERTIFICATES, CORRUPTIONS, TRANSFER = "certificates.jsonl", "corruptions.jsonl", "transfer.json"
TOLERANCE = 1e-9


def read_rows(path: Path, keys: tuple[str, ...]) -> list[dict]:
    """JSON lines, each an object with `keys`; a bad line is a one-line error naming it."""
    if not path.is_file():
        raise UserError(f"no {path.name}: nothing to verify the summary against", str(path))
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise UserError("not JSON", located(path, i)) from None
        missing = [k for k in keys if not isinstance(row, dict) or k not in row]
        if missing:
            raise UserError(f"row lacks {', '.join(missing)}", located(path, i))
        rows.append(row)
    if not rows:
        raise UserError(f"{path.name} is empty: there is nothing to verify the summary against", str(path))
    return rows


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def same(a, b) -> bool:
    """Equal as JSON values, floats to within TOLERANCE (bools and ints exactly)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def refuse_disagreement(summary: dict, rebuilt: dict, what: str, where: Path) -> dict:
    """`rebuilt` after refusing a summary that disagrees with it on any key."""
    problems = [f"{k}: summary says {json.dumps(summary.get(k))[:80]}, {what} give {json.dumps(v)[:80]}"
                for k, v in rebuilt.items() if k not in summary or not same(summary[k], v)]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UserError(f"summary.json disagrees with {what}: {problems[0]}{more}; re-run the command to rewrite "
                        "the summary", str(where / "summary.json"))
    return rebuilt


def verified_certificates(run_dir: Path, summary: dict) -> tuple[dict, list[dict]]:
    """(the certify run's metrics rebuilt from certificates.jsonl, its rows): each row's radius from its own count."""
    from genoarmory.defenses.certificate import certified_radius, clopper_pearson_lower
    from genoarmory.defenses.certify import ABSTAIN, ROW_KEYS, certified_summary

    d = summary.get("defense") or {}
    try:
        noise, alpha, n, radii = float(d["noise"]), float(d["alpha"]), int(d["n"]), [int(r) for r in d["radii"]]
    except (KeyError, TypeError, ValueError):
        raise UserError("the summary does not state its smoothing (defense.noise, alpha, n, radii)",
                        str(run_dir / "summary.json")) from None
    path = run_dir / CERTIFICATES
    rows = read_rows(path, ROW_KEYS)
    for i, r in enumerate(rows, 1):
        wrong = [k for k in ("label", "vote", "prediction", "count", "n", "radius", "base_pred") if not _integer(r[k])]
        if wrong or not 0 <= r["count"] <= n:
            raise UserError(f"row {r['id']}: {', '.join(wrong) or 'count'} is not a count this run can have",
                            located(path, i))
        radius = certified_radius(clopper_pearson_lower(r["count"], n, alpha), noise, max(radii))
        prediction = r["vote"] if radius >= 0 else ABSTAIN
        if r["n"] != n or r["radius"] != radius or r["prediction"] != prediction:
            raise UserError(f"row {r['id']}: its count {r['count']} of {n} certifies radius {radius} (prediction "
                            f"{prediction}), the row says radius {r['radius']} (prediction {r['prediction']})",
                            located(path, i))
    return refuse_disagreement(summary, certified_summary(rows, radii), CERTIFICATES, run_dir), rows


def verified_corruptions(run_dir: Path, summary: dict) -> tuple[dict, list[dict]]:
    """(the corrupt run's table rebuilt from corruptions.jsonl, its rows): each corrupted read made again."""
    from genoarmory.data.corruptions import corrupt
    from genoarmory.metrics.corruption import CLEAN, corruption_summary

    path = run_dir / CORRUPTIONS
    rows = read_rows(path, ("id", "label", "profile", "severity", "sequence", "pred", "label_preserved"))
    seed = summary.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise UserError("the summary does not state the seed its corruptions were drawn with", str(run_dir / "summary.json"))
    clean = {r["id"]: r["sequence"] for r in rows if r["profile"] == CLEAN}
    for i, r in enumerate(rows, 1):
        if not (_integer(r["label"]) and _integer(r["pred"]) and isinstance(r["sequence"], str)
                and isinstance(r["profile"], str) and isinstance(r["severity"], (int, float))
                and r["label_preserved"] in (True, False, None)):
            raise UserError(f"row {r.get('id')}: label, pred, sequence, profile, severity or label_preserved has the "
                            "wrong type", located(path, i))
        if r["profile"] == CLEAN:
            continue
        if r["id"] not in clean:
            raise UserError(f"row {r['id']} has no clean read to corrupt", located(path, i))
        try:
            again = corrupt(clean[r["id"]], str(r["id"]), str(r["profile"]), float(r["severity"]), seed)
        except (KeyError, ValueError, TypeError) as err:
            raise UserError(f"row {r['id']}: cannot corrupt again ({err})", located(path, i)) from None
        if again != r["sequence"]:
            raise UserError(f"row {r['id']}: its {r['profile']} read at severity {r['severity']} is not the one the "
                            f"seeded profile gives (seed {seed})", located(path, i))
    return refuse_disagreement(summary, corruption_summary(rows), CORRUPTIONS, run_dir), rows


def verified_transfer(out_dir: Path, report: dict) -> dict:
    """transfer.json after its source runs' summaries are checked against their records and the matrix is
    scored again from them (raises on the first disagreement)."""
    from genoarmory.leaderboard.verify import check_against_records
    from genoarmory.results import Run
    from genoarmory.transferability import transfer_matrix

    runs = report.get("runs")
    if not isinstance(runs, list) or len(runs) < 2 or not all(isinstance(r, str) for r in runs):
        raise UserError("transfer.json names no source runs (runs: [...])", str(out_dir / TRANSFER))
    for run in runs:
        if not Path(run).is_dir():
            raise UserError(f"the source run {run} is not on this machine: the matrix cannot be verified",
                            str(out_dir / TRANSFER))
        check_against_records(Run(Path(run)), Run(Path(run)).summary)
    again = transfer_matrix([Path(r) for r in runs], bool(report.get("include_label_changed")))
    problems = [k for k in ("models", "dataset", "rates", "counts") if not same(report.get(k), again[k])]
    if problems:
        raise UserError(f"transfer.json disagrees with its runs scored again: {problems[0]} (say "
                        f"{json.dumps(report.get(problems[0]))[:80]}, scored {json.dumps(again[problems[0]])[:80]}); "
                        "re-run `transfer`", str(out_dir / TRANSFER))
    return again
