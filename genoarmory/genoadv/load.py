"""A GenoAdv config as a `Task` (the loader behind `dataset=genoadv/<config>`), and its files as tables.

Works for a folder written by `genoadv build` and for the published GenoAdv on the hub (or a copy
placed in the cache by `download genoadv --source`): the card's `configs:` / `data_files:` say which
files hold which split, Parquet or CSV alike. GenoAdv's `validation` becomes the task's `dev` split, so
`train`, `defend` and `attack` use it as they use any task's dev split.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from genoarmory.data.example import Example, Task
from genoarmory.errors import UserError
from genoarmory.genoadv.schema import TASK_SPLIT
from genoarmory.sequence import SkipSequence, normalize


def resolve_source(source: str | Path, revision: str | None = None, cache_dir=None, offline=False,
                   config: str | None = None) -> Path:
    """A local GenoAdv folder as is; else a hub dataset id fetched (card first, then one config's files)."""
    local = Path(str(source)).expanduser()
    if local.is_dir():
        if not (local / "README.md").is_file():
            raise UserError("no README.md (dataset card): not a GenoAdv folder; build one with "
                            "`python -m genoarmory genoadv build runs=[...] run_dir=DIR`", str(local))
        return local
    from genoarmory import hub

    card = hub.fetch(str(source), "dataset", revision, cache_dir, offline, allow_patterns=["README.md"])
    configs = hub.card_configs(card)
    if config is None:
        return hub.fetch(str(source), "dataset", revision, cache_dir, offline)
    if config not in configs:
        raise UserError(f"GenoAdv {source} has no config {config!r}; it has: {', '.join(configs) or 'none listed'}")
    patterns = ["README.md", *(p for ps in configs[config].values() for p in ps)]
    return hub.fetch(str(source), "dataset", revision, cache_dir, offline, allow_patterns=patterns)


def config_names(folder: Path) -> list[str]:
    from genoarmory.hub import card_configs

    return list(card_configs(folder))


def read_config_tables(folder: Path, config: str) -> dict:
    """{GenoAdv split: pyarrow.Table} for one config, from the files its card lists."""
    import pyarrow as pa

    from genoarmory.hub import config_split_files

    files = config_split_files(folder, config)
    if not files:
        raise UserError(f"the dataset card names no config {config!r}; it has: {', '.join(config_names(folder))}",
                        str(folder / "README.md"))
    tables = {}
    for split, paths in files.items():
        if not paths:
            raise UserError(f"config {config}: the card's files for split {split!r} are not in the folder", str(folder))
        tables[split] = pa.concat_tables([_read_table(p) for p in paths], promote_options="default")
    return tables


def _read_table(path: Path):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        elif path.suffix in (".csv", ".tsv"):
            table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t" if path.suffix == ".tsv" else ","))
        else:
            raise UserError(f"unsupported data file type {path.suffix!r} (Parquet or CSV expected)", str(path))
    except (pa.ArrowInvalid, OSError) as err:
        raise UserError(f"cannot read ({str(err).splitlines()[0]})", str(path)) from None
    missing = {"sequence", "label"} - set(table.column_names)
    if missing:
        raise UserError(f"no {', '.join(sorted(missing))} column (columns: {', '.join(table.column_names)})", str(path))
    return table


def load_genoadv_task(config: str, source: str, revision: str | None = None, num_labels: int | None = None,
                      policy: str = "error", cache_dir=None, offline: bool = False) -> Task:
    """`dataset=genoadv/<config>`: train = clean train + adversarial (true labels), dev = validation,
    test = the clean test split, test_adversarial when the build has one."""
    folder = resolve_source(source, revision, cache_dir, offline, config)
    splits: dict[str, list[Example]] = {}
    for split, table in read_config_tables(folder, config).items():
        splits[TASK_SPLIT.get(split, split)] = _examples(table, split, policy, folder / config)
    if "train" not in splits or "test" not in splits:
        raise UserError(f"GenoAdv config {config} needs train and test splits; it has {', '.join(splits)}", str(folder))
    labels = {e.label for exs in splits.values() for e in exs}
    if num_labels is not None and max(labels) >= int(num_labels):
        raise UserError(f"GenoAdv config {config} has label {max(labels)} but the dataset config says "
                        f"num_labels={num_labels}")
    n = int(num_labels) if num_labels is not None else max(2, max(labels) + 1)
    info = {"source": f"GenoAdv {source}" + (f"@{revision}" if revision else "") + f", config {config}",
            "folder": str(folder)}
    return Task(f"genoadv/{config}", n, splits, info)


def _examples(table, split: str, policy: str, where: Path) -> list[Example]:
    columns = set(table.column_names)
    data = table.to_pydict()
    n = table.num_rows
    ids = data["id"] if "id" in columns else [f"{split}:{i}" for i in range(n)]
    adversarial = data["is_adversarial"] if "is_adversarial" in columns else [None] * n
    metas = data["meta"] if "meta" in columns else [None] * n
    rng = random.Random(f"{where}:{split}:{policy}")  # 'replace' policy: reproducible per split
    examples = []
    for i in range(n):
        try:
            seq = normalize(str(data["sequence"][i]), policy, f"{where}/{split} row {i}", rng)
        except SkipSequence:
            continue
        meta = json.loads(metas[i]) if metas[i] else {}
        if adversarial[i] is not None:
            meta["genoadv_adversarial"] = bool(adversarial[i])
        examples.append(Example(str(ids[i]), seq, int(data["label"][i]), meta))
    return examples
