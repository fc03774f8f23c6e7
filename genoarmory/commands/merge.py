"""`python -m genoarmory merge DIR... [--out DIR]`: merge the shards of one attack into one run.

A large attack split with `dataset.shard=i/n` (e.g. a sweep `-m dataset.shard=0/4,1/4,2/4,3/4`) leaves
n run dirs. merge checks that they are all n shards of ONE configuration (every setting equal except
dataset.shard, every shard finished), interleaves their records back into the unsharded order
(shard i holds examples i, i+n, i+2n, ... of the selection) and writes OUT/records.jsonl and
OUT/summary.json through the same `build_summary` as `attack`, so the result equals the unsharded run's.
A DIR may also be a sweep folder: its job folders holding records are taken. OUT defaults to
<the shards' common parent>/merged.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from genoarmory.data.select import parse_shard
from genoarmory.errors import UserError
from genoarmory.config import LOCAL_KEYS, check_data, config_hash
from genoarmory.results import RECORDS, SUMMARY, AttackRecord, Run, find_runs, write_json_atomic, write_records


class Shard:
    def __init__(self, folder: Path):
        self.folder = folder
        run = Run(folder)
        if not run.has_summary:
            raise UserError("shard not finished (no summary.json); rerun its attack to resume it", str(folder))
        self.summary = run.summary
        self.config = self.summary.get("config") or {}
        check_data(self.config, str(folder / SUMMARY))
        shard = (self.config.get("dataset") or {}).get("shard")
        self.index = parse_shard(shard)
        if self.index is None:
            raise UserError("not a shard (its dataset.shard is null)", str(folder))
        self.records = run.records(run.num_labels)
        if len(self.records) != self.summary.get("n_examples"):
            raise UserError(f"records.jsonl holds {len(self.records)} records but summary.json counts "
                            f"{self.summary.get('n_examples')}; rerun this shard to finish it", str(folder))

    @property
    def label(self) -> str:
        return f"{self.index[0]}/{self.index[1]}"


def comparable(config: dict) -> dict:
    out = {k: v for k, v in config.items() if k not in LOCAL_KEYS}
    out["dataset"] = {k: v for k, v in (out.get("dataset") or {}).items() if k != "shard"}
    return out


def first_difference(a, b, prefix: str = "") -> str:
    """The dotted key where two configs first differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{prefix}{key}.")
    return f"{prefix.rstrip('.')} ({a!r} vs {b!r})"


def check_shards(shards: list[Shard]) -> int:
    """All shards of one configuration, each index once, none missing; returns n."""
    base = shards[0]
    for s in shards[1:]:
        if comparable(s.config) != comparable(base.config):
            raise UserError(f"shard {s.label} was run with other settings than shard {base.label} at {base.folder}: "
                            f"{first_difference(comparable(base.config), comparable(s.config))}", str(s.folder))
    n = base.index[1]
    seen: dict[int, Shard] = {}
    for s in shards:
        if s.index[1] != n:
            raise UserError(f"shard {s.label} is not one of {n} shards like {base.label} at {base.folder}", str(s.folder))
        if s.index[0] in seen:
            raise UserError(f"shard {s.label} given twice (also {seen[s.index[0]].folder})", str(s.folder))
        seen[s.index[0]] = s
    missing = [f"{i}/{n}" for i in range(n) if i not in seen]
    if missing:
        raise UserError(f"missing shard(s) {', '.join(missing)}: pass all {n} shard run folders")
    return n


def interleave(shards: list[Shard]) -> list[AttackRecord]:
    """Shard i holds selection positions i, i+n, ...: put every record back at its position."""
    shards = sorted(shards, key=lambda s: s.index[0])
    sizes = [len(s.records) for s in shards]
    if any(a < b for a, b in zip(sizes, sizes[1:])) or sizes[0] - sizes[-1] > 1:
        raise UserError(f"shard sizes {sizes} cannot come from one selection split {len(shards)} ways "
                        f"(were the shards run with different dataset settings?)")
    merged = [s.records[j] for j in range(sizes[0]) for s in shards if j < len(s.records)]
    ids = [r.id for r in merged]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise UserError(f"example {duplicate!r} appears in more than one shard")
    return merged


def is_merge(folder: Path) -> bool:
    """A folder an earlier merge wrote (safe to overwrite: everything in it is derived from the shards)."""
    try:
        return "merged_from" in Run(folder).summary
    except UserError:
        return False


def merge(folders: list[Path], out: Path | None) -> dict:
    from genoarmory.summary import build_summary

    shards = [Shard(f) for f in folders]
    check_shards(shards)
    records = interleave(shards)
    if out is None:
        parents = {s.folder.resolve().parent for s in shards}
        if len(parents) != 1:
            raise UserError("the shards live in different folders; say where the merged run goes with --out DIR")
        out = parents.pop() / "merged"
    if any(out.resolve() == s.folder.resolve() for s in shards):
        raise UserError("--out is one of the shards; choose a new folder", str(out))
    if (out / RECORDS).exists() and not is_merge(out):
        raise UserError("holds an attack run that is not a merge; choose another --out", str(out))

    base = shards[0]
    config = json.loads(json.dumps(base.config))
    config["dataset"]["shard"] = None
    config["run_dir"] = str(out)
    meta = {"config": config, "config_hash": config_hash(config), "versions": base.summary.get("versions"),
            "commit": base.summary.get("commit"), "device": base.summary.get("device"),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    summary = build_summary(records, int(base.summary["dataset"]["num_labels"]), config, meta, base.summary["model"],
                            base.summary.get("label_check"))
    summary["merged_from"] = [{"run_dir": str(s.folder.resolve()), "shard": s.label, "n_examples": len(s.records),
                               "device": s.summary.get("device"), "commit": s.summary.get("commit")}
                              for s in sorted(shards, key=lambda s: s.index[0])]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create the output folder ({err.strerror})", str(out)) from None
    write_records(out / RECORDS, records)
    write_json_atomic(out / SUMMARY, summary)
    return summary


def main(argv: list[str]) -> int:
    from genoarmory.errors import report_user_error

    parser = argparse.ArgumentParser(prog="genoarmory merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="shard run folders (or a sweep folder holding them)")
    parser.add_argument("--out", type=Path, default=None, help="where the merged run goes (default: <parent>/merged)")
    args = parser.parse_args(argv)
    try:
        summary = merge(find_runs(args.dirs, need=RECORDS), args.out)
    except UserError as err:
        report_user_error(err)
        return err.exit_code
    from genoarmory.report import print_summary

    out = Path(summary["config"]["run_dir"])
    print_summary(summary, out)
    print(f"genoarmory: merged {len(summary['merged_from'])} shards ({summary['n_examples']} records) into {out}")
    return 0
