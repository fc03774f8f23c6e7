"""Datasets on the hub: a config's files from its dataset card, and GUE laid out as it ships."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.hub.cache import GUE_REPO, default_cache_dir, fetch
from genoarmory.hub.snapshots import _made

GUE_REVISION = "main"
# GUE's own group folders -> the prefix of leannmlindsey/GUE's config names (EMP/H3 -> emp_H3, tf/0 -> human_tf_0).
GUE_CONFIG_PREFIX = {"EMP": "emp_", "tf": "human_tf_", "mouse": "mouse_", "prom": "", "splice": "splice_",
                     "virus": "virus_"}
GUE_SPLITS = {"train": "train", "dev": "dev", "validation": "dev", "test": "test"}  # hub split -> GUE file


def card_configs(snapshot: Path) -> dict[str, dict[str, list[str]]]:
    """{config: {split: path patterns}} from the card's `configs:` / `data_files:` (what `datasets` reads)."""
    from huggingface_hub.repocard import metadata_load

    readme = Path(snapshot) / "README.md"
    entries = (metadata_load(readme) or {}).get("configs") or [] if readme.is_file() else []
    return {e["config_name"]: _data_files(e.get("data_files")) for e in entries if "config_name" in e}


def _data_files(spec) -> dict[str, list[str]]:
    """data_files in each documented form: a path, a list of paths, {split: path(s)}, [{split, path(s)}]."""
    def as_list(paths):
        return [paths] if isinstance(paths, str) else list(paths)

    if isinstance(spec, str):
        return {"train": [spec]}
    if isinstance(spec, dict):
        return {split: as_list(paths) for split, paths in spec.items()}
    if spec and all(isinstance(d, dict) for d in spec):
        return {d["split"]: as_list(d["path"]) for d in spec}
    return {"train": list(spec or [])}


def config_split_files(snapshot: Path, config: str) -> dict[str, list[Path]]:
    """{split: files present in `snapshot`} for one config of the card; {} when the card lacks it."""
    splits = card_configs(snapshot).get(config, {})
    return {split: sorted({p for pattern in patterns for p in Path(snapshot).glob(pattern) if p.is_file()})
            for split, patterns in splits.items()}


def gue_config_name(task: str) -> str:
    group, _, name = task.partition("/")
    if group not in GUE_CONFIG_PREFIX or not name:
        raise UserError(f"unknown GUE task {task!r}: expected <group>/<task> with group one of "
                        f"{', '.join(GUE_CONFIG_PREFIX)} (e.g. EMP/H3, tf/0, prom/prom_300_all)")
    return GUE_CONFIG_PREFIX[group] + name


def gue_cache(cache_dir=None) -> Path:
    return Path(cache_dir or default_cache_dir()).expanduser() / "gue"


def gue_task_dir(task: str, cache_dir=None, offline=False, data_root=None, revision: str | None = None) -> Path:
    """<data_root>/<task> when present, else <cache>/gue/<task>, else GUE from the hub laid out there."""
    if data_root is not None and (Path(data_root) / task).is_dir():
        return Path(data_root) / task
    out = gue_cache(cache_dir) / task
    if all((out / f"{split}.csv").is_file() for split in ("train", "dev", "test")):
        return out
    return lay_out_gue_task(fetch_gue(revision, cache_dir, offline, [task]), task, out)


def fetch_gue(revision, cache_dir, offline, tasks: list[str]) -> Path:
    """The hub snapshot holding `tasks`: the card first, then only those configs' data files."""
    revision = revision or GUE_REVISION
    configs = {task: gue_config_name(task) for task in tasks}  # an unknown task fails before any request
    card = card_configs(fetch(GUE_REPO, "dataset", revision, cache_dir, offline, allow_patterns=["README.md"]))
    patterns = ["README.md"]
    for task, config in configs.items():
        patterns += [p for ps in card[config].values() for p in ps] if config in card else [
            f"{task}/*", f"*/{task}/*", f"{config}/*", f"*/{config}/*"]  # a copy without a card: by folder
    return fetch(GUE_REPO, "dataset", revision, cache_dir, offline, allow_patterns=patterns)


def lay_out_gue_task(root: Path, task: str, out: Path) -> Path:
    """Write `task` from `root` (a hub snapshot with a card, or GUE as it ships) as out/{train,dev,test}.csv."""
    files = {GUE_SPLITS[s]: f for s, f in config_split_files(root, gue_config_name(task)).items() if s in GUE_SPLITS}
    if not any(files.values()):
        files = _gue_shipped_files(root, task)
    missing = [split for split in ("train", "dev", "test") if not files.get(split)]
    if missing:
        raise UserError(f"GUE task {task}: no {'/'.join(missing)} split in {root} (get it with "
                        f"`python -m genoarmory download gue --task {task}`, or put GUE under data_root)")
    staging = Path(tempfile.mkdtemp(prefix=".gue-", dir=_made(out.parent)))
    for split in ("train", "dev", "test"):
        _write_csv(files[split], staging / f"{split}.csv")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)
    return out


def _gue_shipped_files(root: Path, task: str) -> dict[str, list[Path]]:
    """GUE as its zip ships, <root>/[GUE/]<group>/<task>/<split>.csv, or a card-less copy by config name."""
    config = gue_config_name(task)
    for folder in (root / task, root / "GUE" / task, root / config, root / "GUE" / config):
        if (folder / "train.csv").is_file():
            return {s: [folder / f"{s}.csv"] for s in ("train", "dev", "test") if (folder / f"{s}.csv").is_file()}
    return {}


def _write_csv(sources: list[Path], dest: Path) -> None:
    """One GUE split file: CSVs are concatenated (one header kept), Parquet converted to `sequence,label`."""
    with dest.open("w", newline="", encoding="utf-8") as out:
        for i, src in enumerate(sources):
            if src.suffix == ".parquet":
                _parquet_rows(src, out, header=i == 0)
                continue
            lines = src.read_text(encoding="utf-8-sig").splitlines(keepends=True)
            lines = lines if i == 0 else lines[1:]
            out.writelines(lines)
            if lines and not lines[-1].endswith("\n"):
                out.write("\n")


def _parquet_rows(src: Path, out, header: bool) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    if not {"sequence", "label"} <= set(table.column_names):
        raise UserError(f"expected columns sequence and label, found {', '.join(table.column_names)}", str(src))
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(["sequence", "label"])
    writer.writerows(zip(table.column("sequence").to_pylist(), table.column("label").to_pylist()))
