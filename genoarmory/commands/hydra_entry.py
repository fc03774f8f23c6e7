"""Runs a task function under Hydra with GenoArmory's conventions.

- Each command has its own primary config (conf/attack.yaml, conf/train.yaml, conf/defend.yaml), which
  composes the shared parts (conf/_run.yaml, the groups) and names the Hydra job. Hydra reads the
  command line exactly as the user typed it (its own parser: -m, --cfg, --info, hydra/launcher=...).
- The composed config is checked (genoarmory/config_schema.py) before anything runs: a bad override is
  one line `genoarmory: error: <key>...: expected ...`, exit code 2, and nothing is written. For a sweep
  (-m) every value of every swept key is checked up front, the same way, before any job starts; each job
  checks its own config again.
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
from genoarmory.config import CONF_DIR, implied_overrides, register_resolvers
from genoarmory.config_check import check_config
from genoarmory.config_compose import compose_checked
from genoarmory.errors import FailedJob, UserError, report_user_error


def _sweep_dir(run_dir, job_name) -> str:
    if run_dir not in (None, "None", "null"):
        return str(run_dir)
    return f"runs/multirun/{job_name}/{time.strftime('%Y-%m-%d_%H-%M-%S')}"


if not OmegaConf.has_resolver("ga_sweep_dir"):
    # use_cache: the timestamp is taken once per sweep (as Hydra's own `now`), so jobs that start in
    # different seconds still share one sweep folder, and the sweep-end callback finds them there.
    OmegaConf.register_new_resolver("ga_sweep_dir", _sweep_dir, use_cache=True)
register_resolvers()


def default_run_dir(command: str, cfg: DictConfig) -> Path:
    from genoarmory.models.derive import run_names

    model = run_names(cfg.model)["name"]  # a folder's own name, not the hub config's that loaded it
    parts = ["runs", command, model.replace("/", "-"), str(cfg.dataset.name).replace("/", "-")]
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


def _hydra_args(argv: list[str]):
    """The command line as Hydra's own parser reads it (so no flag of Hydra's is copied here)."""
    from hydra._internal.utils import get_args_parser

    return get_args_parser().parse_args(argv)


def sweep_cover(overrides: list[str], params: dict | None) -> list[list[str]]:
    """Override lists that, together, give every value of every swept key at least once (job i takes the
    i-th value of each key, cycling): what is checked before a sweep starts. `params` are the config's
    own hydra.sweeper.params (an experiment preset); a key on the command line replaces them, as Hydra's
    sweeper does."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in (params or {}).items()] + overrides)
    axes: dict[str, list[str]] = {}
    for o in parsed:
        key = o.get_key_element()
        axes[key] = ([f"{key}={v}" for v in o.sweep_string_iterator()] if o.is_sweep_override()
                     else [f"{key}={o.get_value_element_as_str()}"])
    size = max((len(v) for v in axes.values()), default=1)
    return [[values[i % len(values)] for values in axes.values()] for i in range(size)]


def _sweeper_params(cfg: DictConfig) -> dict:
    """The config's own sweep (hydra.sweeper.params, set by an experiment preset), as plain data."""
    params = cfg.hydra.sweeper.get("params")
    return OmegaConf.to_container(params, resolve=False) if params else {}


def check_command_line(command: str, args) -> None:
    """Compose and check what the command line asks for before Hydra runs anything (one line on the
    first problem). `args`: the command line as Hydra's parser read it."""
    if args.help or args.hydra_help or args.info or args.shell_completion or args.experimental_rerun:
        return
    if args.config_name not in (None, command) or args.config_path or args.config_dir:
        return  # another config than ours: Hydra composes and reports it
    if not args.multirun:
        cfg = compose_checked(command, args.overrides, return_hydra_config=True, check=False)
        params = _sweeper_params(cfg)
        if params:
            raise UserError(f"this config defines a sweep over {', '.join(params)} (hydra.sweeper.params, e.g. "
                            "an experiment preset): run it with -m")
        check_config(command, cfg)
        return
    from hydra.core.override_parser.overrides_parser import OverridesParser

    fixed = [o.input_line for o in OverridesParser.create().parse_overrides(args.overrides)
             if o.is_hydra_override() or not o.is_sweep_override()]
    base = compose_checked(command, fixed, return_hydra_config=True)
    params = _sweeper_params(base)
    for job in sweep_cover(args.overrides, params):
        compose_checked(command, job)


def run_hydra(command: str, argv: list[str], task: Callable[[DictConfig, Path], object]) -> int:
    """Compose conf/<command>.yaml with the command line and call task(cfg, run_dir)."""
    import hydra

    if not (CONF_DIR / f"{command}.yaml").is_file():
        print(f"genoarmory: error: config {CONF_DIR / (command + '.yaml')} not found (a broken install: "
              "reinstall genoarmory)", file=sys.stderr)
        return 2
    argv = implied_overrides(argv)  # `model.path=DIR` alone: model=local (config.implied_overrides)
    args = _hydra_args(argv)
    try:
        check_command_line(command, args)
    except UserError as err:
        report_user_error(err)
        return err.exit_code

    ran, multirun = [], bool(args.multirun)

    def job(cfg: DictConfig) -> FailedJob | None:
        ran.append(True)
        try:
            check_config(command, cfg)  # this job's own combination (a sweep checked each value up front)
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

    wrapped = hydra.main(config_path=str(CONF_DIR), config_name=command, version_base="1.3")(job)
    saved = sys.argv
    sys.argv = [f"genoarmory {command}", *argv]  # Hydra parses the user's own command line
    sweep.LAST_SWEEP.update(failed=0, jobs=0)
    try:
        wrapped()
    except SystemExit as exit_:
        # Hydra prints its own one-paragraph error for a config it cannot compose and exits 1 before any
        # job ran (rare now: the command line was composed and checked above): bad input, so exit code 2.
        # (Not for -m, where jobs may run in other processes and a crashed job must keep Hydra's code.)
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
