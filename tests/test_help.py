"""`--help` lists options with their meaning and examples, and imports nothing heavy (its speed is timed in
benchmarks/help_latency.py, not here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import run_cli

HEAVY = ("torch", "transformers", "textattack", "hydra", "numpy")


@pytest.mark.parametrize("command", ["train", "attack", "defend"])
def test_hydra_command_help_lists_options_meanings_and_examples(command, capsys):
    assert run_cli(command, "--help") == 0
    out = capsys.readouterr().out
    assert "model=     default tiny-6mer; options: caduceus, dnabert1-6mer, dnabert2" in out
    assert "gue/... (28, e.g. gue/EMP/H3)" in out
    assert "sequence.policy" in out and "N / IUPAC codes: error | skip | replace" in out
    assert f"python -m genoarmory {command}" in out.split("examples:")[1]
    if command != "train":
        assert "attack.max_perturb_ratio  0.1      Hamming budget" in out


@pytest.mark.parametrize("argv", [["--help"], ["attack", "--help"], ["defend", "-h"], ["read", "--help"],
                                  ["download", "--help"], ["genoadv", "build", "--help"]])
def test_help_imports_nothing_heavy(argv):
    code = ("import sys, runpy; sys.argv = ['genoarmory', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('genoarmory', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
