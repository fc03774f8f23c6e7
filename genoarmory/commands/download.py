"""`python -m genoarmory download genoadv|gue|model=<name>`: fill the cache the other commands read.

From the Hugging Face hub (pinned `--revision`, resumable, progress bars), or on air-gapped sites from
`--source DIR_OR_ARCHIVE`: a folder in HF layout (GUE also as its zip ships), or a .zip / .tar.gz of one.
Where things go: the cache layout in genoarmory/hub/__init__.py's docstring. Offline, gated or not found: one line
on stderr and exit code 2.

    python -m genoarmory download model=dnabert2 [--revision <commit>]
    python -m genoarmory download model=dnabert2 --task H3            # the paper's fine-tuned checkpoint
    python -m genoarmory download gue [--task tf/0]                   # all 28 tasks without --task
    python -m genoarmory download genoadv [--task prom_300_all]
    python -m genoarmory download model=dnabert2 --source dnabert2.tar.gz   # copied from another machine

Air-gapped: run `download` on a connected machine, then either copy its whole cache_dir to the same place,
or pass `--source` the printed snapshot folder (tar it with `tar -h`: its files are links into blobs/) or
the repo's cache folder <cache_dir>/hub/models--<org>--<name> (a folder or its .tar.gz).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from genoarmory.config import CONF_DIR
from genoarmory.errors import UserError, report_user_error


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m genoarmory download", description=__doc__.splitlines()[0])
    p.add_argument("what", help="genoadv | gue | model=<name> (a conf/model/<name>.yaml with a hub_id)")
    p.add_argument("--revision", help="branch, tag or commit to pin (default: the config's, else main)")
    p.add_argument("--source", type=Path, help="a local folder or .zip/.tar/.tar.gz instead of the hub")
    p.add_argument("--task", help="GUE task (tf/0), GenoAdv config (H3), or a model's fine-tuned task")
    p.add_argument("--cache-dir", type=Path, help="default: the config's cache_dir ($GENOARMORY_CACHE)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    cache_dir = args.cache_dir or config_cache_dir()
    try:
        if args.what == "gue":
            lines = download_gue(args, cache_dir)
        elif args.what == "genoadv":
            lines = download_genoadv(args, cache_dir)
        elif args.what.startswith("model="):
            lines = download_model(args.what.removeprefix("model="), args, cache_dir)
        else:
            raise UserError(f"download: unknown target {args.what!r}; expected genoadv, gue or model=<name>")
    except UserError as err:
        report_user_error(err)
        return err.exit_code
    print("\n".join(lines))
    return 0


def config_cache_dir() -> Path:
    """conf/_run.yaml's `cache_dir` (every Hydra command's), resolved the way the Hydra commands resolve it."""
    from genoarmory import hub
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(CONF_DIR / "_run.yaml") if (CONF_DIR / "_run.yaml").is_file() else None
    value = OmegaConf.select(cfg, "cache_dir") if cfg is not None else None
    return Path(value).expanduser() if value else hub.default_cache_dir()


def download_model(name: str, args, cache_dir: Path) -> list[str]:
    from genoarmory import hub

    cfg = model_config(name)
    if args.task:
        if not cfg.get("finetuned_id"):
            raise UserError(f"model={name} names no fine-tuned checkpoints (finetuned_id): drop --task")
        repo, revision = str(cfg.finetuned_id).format(task=args.task), args.revision or "main"
    else:
        repo, revision = str(cfg.hub_id), args.revision or cfg.get("revision") or "main"
    if args.source:
        with staging_dir(cache_dir) as staging:
            root = hub.unpack_source(args.source, Path(staging), revision)
            if not (root / "config.json").is_file():
                raise UserError("--source has no config.json: not a model folder in HF layout", str(args.source))
            path = hub.import_snapshot(root, repo, "model", revision, cache_dir)
    else:
        path = hub.fetch(repo, "model", revision, cache_dir)
    return [f"model={name}: {repo}@{revision} -> {path}"]


def model_config(name: str):
    """conf/model/<name>.yaml, read directly (no Hydra app): only its hub ids matter here."""
    from omegaconf import OmegaConf

    path = CONF_DIR / "model" / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml")))
        raise UserError(f"unknown model {name!r}; known: {known}")
    cfg = OmegaConf.load(path)
    if not cfg.get("hub_id"):
        raise UserError(f"model={name} is embedded (no hub_id): nothing to download", str(path))
    return cfg


def download_genoadv(args, cache_dir: Path) -> list[str]:
    from genoarmory import hub

    revision = args.revision or "main"
    if args.source:
        with staging_dir(cache_dir) as staging:
            path = hub.import_snapshot(hub.unpack_source(args.source, Path(staging), revision), hub.GENOADV_REPO,
                                       "dataset", revision, cache_dir)
    else:
        patterns = genoadv_patterns(args.task, revision, cache_dir) if args.task else None
        path = hub.fetch(hub.GENOADV_REPO, "dataset", revision, cache_dir, allow_patterns=patterns)
    config = args.task or "<task>"
    return [f"genoadv: {hub.GENOADV_REPO}@{revision} -> {path}",
            f"load it with datasets.load_dataset({str(path)!r}, {config!r})"]


def genoadv_patterns(task: str, revision: str, cache_dir: Path) -> list[str]:
    """Only one config's files: the card says which."""
    from genoarmory import hub

    card = hub.fetch(hub.GENOADV_REPO, "dataset", revision, cache_dir, allow_patterns=["README.md"])
    configs = hub.card_configs(card)
    if task not in configs:
        raise UserError(f"GenoAdv has no config {task!r}; it has: {', '.join(configs) or 'none listed'}")
    return ["README.md", *(p for patterns in configs[task].values() for p in patterns)]


def download_gue(args, cache_dir: Path) -> list[str]:
    from genoarmory import hub

    tasks = [args.task] if args.task else gue_tasks()
    if not args.source:
        snapshot = hub.fetch_gue(args.revision, cache_dir, False, tasks)
        return [f"gue/{t}: {hub.lay_out_gue_task(snapshot, t, hub.gue_cache(cache_dir) / t)}" for t in tasks]
    lines, absent = [], []
    with staging_dir(cache_dir) as staging:
        root = hub.unpack_source(args.source, Path(staging))
        for task in tasks:
            try:
                lines.append(f"gue/{task}: {hub.lay_out_gue_task(root, task, hub.gue_cache(cache_dir) / task)}")
            except UserError:
                if args.task:
                    raise
                absent.append(task)
    if not lines:
        raise UserError("--source holds no GUE task (expected <group>/<task>/train.csv or a card with configs)",
                        str(args.source))
    return lines + ([f"not in --source: {', '.join(absent)}"] if absent else [])


def staging_dir(cache_dir: Path) -> tempfile.TemporaryDirectory:
    """Where an archive is unpacked: inside the cache, so the final move stays on one file system."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".source-", dir=cache_dir)


def gue_tasks() -> list[str]:
    """Every GUE task named in conf/dataset/gue/ (their loader.task)."""
    from omegaconf import OmegaConf

    files = sorted((CONF_DIR / "dataset" / "gue").rglob("*.yaml"))
    return [str(OmegaConf.load(f).loader.task) for f in files]
