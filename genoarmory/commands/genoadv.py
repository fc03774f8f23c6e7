"""`python -m genoarmory genoadv build|verify`: the GenoAdv adversarial dataset.

    python -m genoarmory genoadv build runs=[DIR1,DIR2] run_dir=OUT [data_root=DIR] [license=ID]
    python -m genoarmory genoadv verify OUT [--model DIR [--model-name tiny-char]] [--config tf_0] [--out FILE]

`build` takes key=value overrides in Hydra's grammar (`runs=[a,b]`, quoting as Hydra quotes), composed
with conf/genoadv.yaml (not run as a Hydra job): its inputs are attack run folders (or folders of runs,
e.g. a multirun sweep). `verify`
re-scores every adversarial example against its own victim, or `--model` for transfer, prints how many
still fool it as a percentage, and writes verify.json (in OUT unless --out).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genoarmory.errors import UserError, report_user_error

def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    action, rest = argv[0], argv[1:]
    try:
        if action == "build":
            return build(rest)
        if action == "verify":
            return verify(rest)
        raise UserError(f"genoadv: unknown action {action!r}; expected build or verify")
    except UserError as err:
        report_user_error(err)
        return err.exit_code


def build_settings(argv: list[str]):
    """conf/genoadv.yaml composed with the `key=value` overrides (Hydra's compose API and grammar) and
    checked: an unknown key or a bad value is one line."""
    from genoarmory.config_compose import compose_checked

    try:
        return compose_checked("genoadv", argv)
    except UserError as err:
        raise UserError(f"genoadv build: {err}") from None


def build(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        from genoarmory.config import CONF_DIR

        print(__doc__)
        print("build settings (conf/genoadv.yaml):\n" + (CONF_DIR / "genoadv.yaml").read_text())
        return 0
    from genoarmory.genoadv.build import build_genoadv

    settings = build_settings(argv)
    runs = [settings.runs] if isinstance(settings.runs, str) else list(settings.runs)
    if not runs:
        raise UserError("genoadv build: give the attack runs, e.g. runs=[runs/attack/a,runs/attack/b]")
    if not settings.run_dir:
        raise UserError("genoadv build: give the output folder, e.g. run_dir=genoadv")
    out = Path(settings.run_dir)
    command = "python -m genoarmory genoadv build " + " ".join(argv)
    manifest = build_genoadv(runs, out, settings.data_root, settings.license, command, settings.progress,
                             settings.include_label_changed)
    for name, c in manifest["configs"].items():
        counts = ", ".join(f"{s} {v['clean']}+{v['adversarial']}" for s, v in c["splits"].items())
        extra = [f"{sum(c['removed_as_test_derived'].values())} test-derived removed",
                 f"{sum(c['duplicates_removed'].values())} duplicates removed"]
        if c["label_changed_excluded"]:
            extra.append(f"{c['label_changed_excluded']} label-changing successes left out")
        if c["rejected"]:
            extra.append(f"{sum(c['rejected'].values())} records rejected ({'; '.join(c['rejected'])})")
        print(f"{name}: {counts} (clean+adversarial); {', '.join(extra)}")
    print(f"genoarmory: GenoAdv written to {out} (card: {out / 'README.md'})")
    return 0


def verify_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m genoarmory genoadv verify",
                                description="re-score GenoAdv's adversarial examples with a fresh forward pass")
    p.add_argument("folder", type=Path, help="a GenoAdv folder (from `genoadv build` or `download genoadv`)")
    p.add_argument("--model", type=Path, help="score with this model instead (transfer): a model folder or a "
                                              "`train` run folder")
    p.add_argument("--model-name", help="conf/model name of --model (read from its `train` run when absent)")
    p.add_argument("--config", action="append", help="only this config (repeatable)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", default="auto")
    p.add_argument("--out", type=Path, help="where verify.json goes (default: FOLDER/verify.json)")
    p.add_argument("--fail-under", type=float, help="exit 1 when fewer than this percentage still fool")
    p.add_argument("--no-progress", action="store_true")
    # only these flags enable them: a metrics.json or a row's victim_config saying so is ignored
    p.add_argument("--trust-remote-code", action="store_true", help="run code the model folder ships (auto_map)")
    p.add_argument("--allow-pickle", action="store_true", help="load pickle weights (weights-only unpickling)")
    return p


def verify(argv: list[str]) -> int:
    args = verify_parser().parse_args(argv)  # before the heavy imports: `verify --help` stays fast
    from genoarmory.genoadv.verify import format_report, verify_folder
    from genoarmory.results import write_json_atomic

    if args.model_name and not args.model:
        raise UserError("--model-name names the family of --model; give --model DIR too")
    report = verify_folder(args.folder, args.model, args.model_name, args.config, args.device,
                           args.batch_size if args.batch_size == "auto" else int(args.batch_size),
                           show_progress=not args.no_progress, trust_remote_code=args.trust_remote_code,
                           allow_pickle=args.allow_pickle)
    print("\n".join(format_report(report)))
    out = args.out or args.folder / "verify.json"
    try:
        write_json_atomic(out, report)
    except UserError as err:
        raise UserError(f"{err.message}; pass --out FILE to write verify.json elsewhere", err.where) from None
    print(f"genoarmory: {out}")
    if args.fail_under is not None and (report["percent"] or 0.0) < args.fail_under:
        return 1
    return 0
