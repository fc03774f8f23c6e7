"""Runs a task function under Hydra with GenoArmory's conventions.

- `run_dir=DIR` is where a command writes; by default runs/<command>/<model>/<dataset>[/<attack>].
  In a multirun (-m) every job gets <sweep dir>/<job number>.
- Hydra itself writes nothing (no .hydra/, no log file): a command that fails on bad input leaves
  no files behind. The composed config is saved by the command, next to its results.
- A UserError becomes one line on stderr and exit code 2, never a traceback. In a multirun the job with
  bad input fails alone: the other jobs run, the sweep table marks it failed with its error, and the
  command exits 2 at the end.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

from omegaconf import DictConfig, OmegaConf

from genoarmory import sweep
from genoarmory.config import CONF_DIR
from genoarmory.errors import FailedJob, UserError



def _sweep_dir(run_dir, job_name) -> str:
    if run_dir not in (None, "None", "null"):
        return str(run_dir)
    return f"runs/multirun/{job_name}/{time.strftime('%Y-%m-%d_%H-%M-%S')}"


if not OmegaConf.has_resolver("ga_sweep_dir"):
    # use_cache: the timestamp is taken once per sweep (as Hydra's own `now`), so jobs that start in
    # different seconds still share one sweep folder, and the sweep-end callback finds them there.
    OmegaConf.register_new_resolver("ga_sweep_dir", _sweep_dir, use_cache=True)


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


# Hydra flags that take a value, so the value is not mistaken for an override.
_VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                "--config-dir", "-cd", "--experimental-rerun"}
_INFO_CHOICES = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}


def hydra_argv(command: str, argv: list[str]) -> list[str]:
    """sys.argv for Hydra: our job-name override and the user's overrides as ONE run, flags after it.

    Hydra's argparse collects overrides from a single contiguous run of positional arguments, so
    `attack -m model=a,b` would fail if the job-name override stood alone before `-m`."""
    flags, overrides, i = [], [], 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-"):
            overrides.append(token)
        else:
            flags.append(token)
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            if nxt is not None and (token in _VALUE_FLAGS or (token in ("--info", "-i") and nxt in _INFO_CHOICES)):
                flags.append(nxt)
                i += 1
        i += 1
    return [f"genoarmory {command}", f"hydra.job.name={command}", *overrides, *flags]


def run_hydra(command: str, argv: list[str], task: Callable[[DictConfig, Path], object]) -> int:
    """Compose conf/config.yaml with `argv` overrides and call task(cfg, run_dir)."""
    import hydra

    if not CONF_DIR.is_dir():
        print(f"genoarmory: error: config folder {CONF_DIR} not found (install with `pip install -e .`)",
              file=sys.stderr)
        return 2

    ran = []
    multirun = any(a in ("-m", "--multirun") for a in argv)

    def job(cfg: DictConfig) -> FailedJob | None:
        ran.append(True)
        try:
            task(cfg, resolve_run_dir(command, cfg))
        except UserError as err:
            if not multirun:
                report_user_error(err)
                sys.exit(err.exit_code)
            # this job fails alone; the sweep goes on and its table says why
            from hydra.core.hydra_config import HydraConfig

            print(f"genoarmory: error: sweep job {HydraConfig.get().job.num}: {err}", file=sys.stderr)
            return FailedJob(str(err), err.exit_code)
        return None

    wrapped = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")(job)
    saved = sys.argv
    sys.argv = hydra_argv(command, argv)
    sweep.LAST_SWEEP.update(failed=0, jobs=0)
    try:
        wrapped()
    except SystemExit as exit_:
        # Hydra prints its own one-paragraph error for a config it cannot compose (unknown option, bad
        # override) and exits 1 before any job ran: bad input like any other, so exit code 2. (Not for
        # -m, where jobs may run in other processes and a crashed job must keep Hydra's code.)
        if exit_.code == 1 and not ran and not multirun:
            sys.exit(2)
        raise
    finally:
        sys.argv = saved
    if multirun and sweep.LAST_SWEEP["failed"]:
        failed, jobs = sweep.LAST_SWEEP["failed"], sweep.LAST_SWEEP["jobs"]
        print(f"genoarmory: error: {failed} of {jobs} sweep jobs failed (see {sweep.TABLE}.csv)", file=sys.stderr)
        return 2
    return 0
