"""`python -m genoarmory <command> [overrides]` — the entry point only dispatches.

Hydra commands (train, attack, defend, certify, corrupt, genoadv build) compose conf/ and take overrides;
the file-oriented ones (read, visualize, merge, transfer, leaderboard, download, genoadv verify) take plain
arguments.
Each command module exposes `main(argv) -> int`. `--help` for train, attack and defend is answered here
(commands/help.py), before any command module (and so torch, transformers, Hydra) is imported.
"""

from __future__ import annotations

import sys

from genoarmory.interrupts import run_command

COMMANDS = {
    "train": ("genoarmory.commands.train", "fine-tune a classifier on a task"),
    "attack": ("genoarmory.commands.attack", "attack a victim; write records.jsonl + summary.json"),
    "defend": ("genoarmory.commands.defend", "train a defended victim, then attack it again"),
    "certify": ("genoarmory.commands.certify", "certified accuracy of a randomly smoothed victim per Hamming radius"),
    "corrupt": ("genoarmory.commands.corrupt", "accuracy and MCC under seeded sequencing-error profiles"),
    "genoadv": ("genoarmory.commands.genoadv", "build / verify the GenoAdv adversarial dataset"),
    "download": ("genoarmory.commands.download", "fetch GenoAdv, GUE or a model from the hub (or --source)"),
    "leaderboard": ("genoarmory.leaderboard.cli", "add run summaries as entries; build the static site"),
    "read": ("genoarmory.commands.read", "print a run's or the leaderboard's metrics"),
    "visualize": ("genoarmory.commands.visualize", "plot where a run's edits landed"),
    "transfer": ("genoarmory.commands.transfer", "transfer matrix: every run's successes against every run's model"),
    "merge": ("genoarmory.commands.merge", "merge sharded attack runs into one summary"),
}


HYDRA_COMMANDS = ("train", "attack", "defend")  # their --help: commands/help.py, from conf/


def usage() -> str:
    lines = ["usage: python -m genoarmory <command> [hydra overrides | arguments]", "", "commands:"]
    lines += [f"  {name:<12} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`python -m genoarmory <command> --help` lists a command's options, with examples:",
              "  python -m genoarmory attack                                 # the embedded default, no network",
              "  python -m genoarmory attack model.path=DIR dataset=csv dataset.path=my.csv",
              "  python -m genoarmory read runs/attack/tiny-6mer/motif-tata/bertattack --examples 5"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"genoarmory: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if command in HYDRA_COMMANDS and any(a in ("-h", "--help") for a in rest):
        from genoarmory.commands.help import command_help

        print(command_help(command, COMMANDS[command][1]))
        return 0
    return run_command(COMMANDS[command][0], rest)  # Ctrl-C: one line, exit 130 (genoarmory/interrupts.py)


if __name__ == "__main__":
    sys.exit(main())
