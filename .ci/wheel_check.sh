#!/usr/bin/env bash
# A normal install works: build the wheel, install it (not editable) into a scratch venv, and run the
# default attack and `leaderboard build` from a folder outside the checkout. Prints the seconds it took.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

python -m pip wheel -q --no-deps -w "$scratch/dist" .
wheel=$(ls "$scratch"/dist/genoarmory-*.whl)
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q --upgrade pip
"$scratch/venv/bin/pip" install -q torch==2.13.0   # the CPU build, as README.md installs it
"$scratch/venv/bin/pip" install -q "$wheel"

mkdir "$scratch/work"
cd "$scratch/work"   # outside the checkout: only the installed package can be imported
run() { env -u PYTHONPATH OMP_NUM_THREADS=1 GENOARMORY_CACHE="$scratch/cache" "$scratch/venv/bin/python" "$@"; }
run -c 'import genoarmory, sys; p = genoarmory.__file__; sys.exit(0 if "/site-packages/" in p else f"imported {p}")'
run -m genoarmory attack progress=false run_dir=attack | tail -n 3
test -s attack/summary.json && test -s attack/records.jsonl
if [ -d "$scratch/cache/tiny" ]; then echo "wheel check: the shipped embedded model was not used" >&2; exit 1; fi
run -m genoarmory leaderboard build run_dir=site
test -s site/index.html
echo "wheel check: passed in $((SECONDS - started)) s"
