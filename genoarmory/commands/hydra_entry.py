"""Runs a task function under Hydra with GenoArmory's conventions.

- `run_dir=DIR` is where a command writes; by default runs/<command>/<model>/<dataset>[/<attack>].
  In a multirun (-m) every job gets <sweep dir>/<job number>.
- Hydra itself writes nothing (no .hydra/, no log file): a command that fails on bad input leaves
  no files behind. The composed config is saved by the command, next to its results.
- A UserError becomes one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

from omegaconf import DictConfig, OmegaConf

from genoarmory.errors import UserError

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def _sweep_dir(run_dir, job_name) -> str:
    if run_dir not in (None, "None", "null"):
        return str(run_dir)
    return f"runs/multirun/{job_name}/{time.strftime('%Y-%m-%d_%H-%M-%S')}"


if not OmegaConf.has_resolver("ga_sweep_dir"):
    OmegaConf.register_new_resolver("ga_sweep_dir", _sweep_dir)


def default_run_dir(command: str, cfg: DictConfig) -> Path:
    parts = ["runs", command, cfg.model.name, str(cfg.dataset.name).replace("/", "-")]
    if command in ("attack", "defend"):
        parts.append(cfg.attack.name)
    if command == "defend":
        parts.append(cfg.defense.name)
    return Path(*parts)


def resolve_run_dir(command: str, cfg: DictConfig) -> Path:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return Path(hydra_cfg.runtime.output_dir)
    return Path(cfg.run_dir) if cfg.get("run_dir") else default_run_dir(command, cfg)


def report_user_error(err: UserError) -> None:
    print(f"genoarmory: error: {err}", file=sys.stderr)


def run_hydra(command: str, argv: list[str], task: Callable[[DictConfig, Path], object]) -> int:
    """Compose conf/config.yaml with `argv` overrides and call task(cfg, run_dir)."""
    import hydra

    if not CONF_DIR.is_dir():
        print(f"genoarmory: error: config folder {CONF_DIR} not found (install with `pip install -e .`)",
              file=sys.stderr)
        return 2

    def job(cfg: DictConfig) -> None:
        try:
            task(cfg, resolve_run_dir(command, cfg))
        except UserError as err:
            report_user_error(err)
            sys.exit(err.exit_code)

    wrapped = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")(job)
    saved = sys.argv
    sys.argv = [f"genoarmory {command}", f"hydra.job.name={command}", *argv]
    try:
        wrapped()
    finally:
        sys.argv = saved
    return 0
