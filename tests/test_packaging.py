"""The wheel ships every file a command reads at run time (package data): configs, embedded models, the
leaderboard's templates, static files and committed board. Builds the wheel (no venv, no network); the
full install-and-run check outside the checkout is .ci/wheel_check.sh."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

SHIPPED = ["genoarmory/conf", "genoarmory/models/embedded", "genoarmory/leaderboard/templates",
           "genoarmory/leaderboard/static", "genoarmory/leaderboard/board"]


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} < 77 (pyproject's build requirement)")
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("genoarmory-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_every_config_model_and_board_file_is_in_the_wheel(wheel_files):
    tracked = subprocess.run(["git", "ls-files", *SHIPPED], cwd=REPO, capture_output=True, text=True).stdout.split()
    if not tracked:  # not a git checkout (an unpacked sdist): every file on disk must ship
        tracked = [str(p.relative_to(REPO)) for d in SHIPPED for p in (REPO / d).rglob("*") if p.is_file()]
    assert len([t for t in tracked if t.startswith("genoarmory/conf/")]) >= 90
    missing = sorted(set(tracked) - wheel_files)
    assert not missing, f"{len(missing)} files not shipped, e.g. {missing[:5]}"


def test_the_wheel_holds_no_tests_caches_or_checkout_files(wheel_files):
    assert not [f for f in wheel_files if "__pycache__" in f or f.endswith(".pyc")]
    assert not [f for f in wheel_files if f.startswith(("tests/", "benchmarks/", "conf/", "leaderboard/"))]
    assert "genoarmory/conf/attack.yaml" in wheel_files and "genoarmory/config_schema.py" in wheel_files
