"""The transfer matrix of several attack runs on the same examples (`transfer`, `genoarmory.transfer()`,
and `leaderboard add`, which recomputes a filed matrix from its runs rather than believe transfer.json).

Each run is a finished attack of one (source) model on the same task and the same examples. Every
source's successes (label-preserving ones only, unless include_label_changed) are scored by every run's
model (the targets, rebuilt from each run's config and weights: model.rc and saved wrappers such as
smoothing apply as in the attack). Transfer rate [source, target] = adversarial sequences that fool the
target / those whose ORIGINAL the target classifies correctly (the usual rate: a target that was already
wrong was not fooled by the attack). The diagonal re-scores a source's own successes: below 1 means its
weights or scoring changed since the attack.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genoarmory.errors import UserError
from genoarmory.results import Run

REPORT = "transfer.json"


def _label(run: Run, taken: set) -> str:
    model = run.summary.get("model") or {}
    name = str(model.get("name") or run.path.name)
    if model.get("rc") == "average":
        name += "+rc"
    if model.get("smoothing"):
        name += f"+smooth{model['smoothing']['noise']}"
    if (run.summary.get("attack") or {}).get("goal") == "both_strands":
        name += "/both-strands"
    label, k = name, 2
    while label in taken:
        label, k = f"{name}#{k}", k + 1
    taken.add(label)
    return label


def _target(run: Run, num_labels: int, device: str):
    from genoarmory.genoadv.verify import build_victim
    from genoarmory.hub import default_cache_dir

    config = run.summary.get("config") or {}
    model = dict(config.get("model") or {})
    path = (run.summary.get("model") or {}).get("path")
    if not path or not Path(path).is_dir():
        raise UserError(f"the run's model weights are gone ({path}): rerun its attack", str(run.path))
    model["path"] = path
    return build_victim(model, num_labels, device, "auto", default_cache_dir(), True)


def transfer_matrix(folders: list[Path], include_label_changed: bool = False, device: str = "auto") -> dict:
    runs = [Run(Path(f)) for f in folders]
    for run in runs:
        if not run.has_summary or not run.has_records:
            raise UserError("not a finished attack run (needs summary.json and records.jsonl)", str(run.path))
    if len(runs) < 2:
        raise UserError("transfer needs at least two attack runs")
    num_labels = runs[0].num_labels
    records = [run.records(num_labels) for run in runs]
    ids = [sorted(r.id for r in recs) for recs in records]
    datasets = {str((run.summary.get("dataset") or {}).get("name")) for run in runs}
    if len(datasets) > 1 or any(i != ids[0] for i in ids):
        raise UserError(f"the runs attacked different examples ({', '.join(sorted(datasets))}; same dataset, split, "
                        "limit and seed are needed for one matrix)", str(runs[1].path))
    taken: set = set()
    labels = [_label(run, taken) for run in runs]
    originals = {r.id: r.sequence for r in records[0]}
    truth = {r.id: r.label for r in records[0]}
    adversarial = [[r for r in recs if r.succeeded and (include_label_changed or r.label_preserved is not False)]
                   for recs in records]
    counts = []
    rates = np.full((len(runs), len(runs)), np.nan)
    for j, run in enumerate(runs):
        target = _target(run, num_labels, device)
        clean = dict(zip(originals, target.predict_proba(list(originals.values()), use_cache=False).argmax(1)))
        for i, wins in enumerate(adversarial):
            preds = target.predict_proba([r.adv_sequence for r in wins], use_cache=False).argmax(1) if wins else []
            base = [k for k, r in enumerate(wins) if clean[r.id] == truth[r.id]]
            fooled = sum(int(preds[k]) != truth[wins[k].id] for k in base)
            counts.append({"source": labels[i], "target": labels[j], "successes": len(wins),
                           "original_correct": len(base), "fooled": fooled})
            if base:
                rates[i, j] = fooled / len(base)
    return {"models": labels, "runs": [str(r.path.resolve()) for r in runs], "dataset": sorted(datasets)[0],
            "include_label_changed": include_label_changed, "rates": [[None if np.isnan(x) else float(x) for x in row]
                                                                      for row in rates], "counts": counts}
