"""Natural corruptions: each sequencing-error profile does what it says, and `corrupt` end to end."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from genoarmory.config_schema import CORRUPTIONS
from genoarmory.data.corruptions import PROFILES, corrupt, corruption_rng
from genoarmory.metrics.corruption import corruption_summary

from conftest import run_cli

RNG = np.random.default_rng(7)
READS = ["".join(RNG.choice(list("ACGT"), 200)) for _ in range(200)]


def runs(sequence: str) -> list[tuple[str, int]]:
    return [(base, len(list(group))) for base, group in itertools.groupby(sequence)]


def test_schema_names_every_profile():
    assert set(CORRUPTIONS) == set(PROFILES)


def test_illumina_rate_and_its_rise_along_the_read():
    changed = np.array([[a != b for a, b in zip(r, corrupt(r, f"r{i}", "illumina", 0.05, 0))]
                        for i, r in enumerate(READS)])
    assert changed.mean() == pytest.approx(0.05, abs=0.005)
    assert changed[:, :50].mean() < changed[:, -50:].mean()  # more errors towards the 3' end


def test_nanopore_changes_only_homopolymer_lengths_by_one():
    touched = 0
    for i, read in enumerate(READS):
        before, after = runs(read), runs(corrupt(read, f"r{i}", "nanopore", 0.3, 0))
        merged = [(b, n) for b, n in before]
        assert len(after) <= len(merged)  # a run shortened to nothing cannot happen (runs >= 2 lose one)
        assert [b for b, _ in after] == [b for b, _ in merged]
        for (b, n), (_, m) in zip(merged, after):
            assert m == n or (n >= 2 and abs(m - n) == 1)
            touched += m != n
    assert touched > 0
    assert corrupt("ACGTACGT", "x", "nanopore", 1.0, 0) == "ACGTACGT"  # no homopolymer, nothing to change


def test_n_mask_masks_the_asked_fraction_in_stretches_and_truncate_cuts_the_end():
    masked = corrupt(READS[0], "x", "n_mask", 0.2, 0)
    assert masked.count("N") == 40 and len(masked) == 200
    assert np.mean([n for b, n in runs(masked) if b == "N"]) > 2  # stretches, not scattered bases
    assert corrupt(READS[0], "x", "truncate", 0.25, 0) == READS[0][:150]


def test_corruptions_are_seeded_per_example():
    a = corrupt(READS[0], "x", "illumina", 0.1, 0)
    assert a == corrupt(READS[0], "x", "illumina", 0.1, 0)
    assert a != corrupt(READS[0], "y", "illumina", 0.1, 0)
    assert corruption_rng(0, "x", "n_mask", 0.1).random() != corruption_rng(1, "x", "n_mask", 0.1).random()


def test_corrupt_command_end_to_end(tmp_path):
    out = tmp_path / "run"
    assert run_cli("corrupt", "dataset.limit=8", "corruption.profiles.illumina=[0.01]", "~corruption.profiles.nanopore",
                   "~corruption.profiles.n_mask", "corruption.profiles.truncate=[0.5]", f"run_dir={out}",
                   "progress=false") == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "corruptions.jsonl").read_text().splitlines()]
    assert len(rows) == 8 * 3
    for r in rows:  # every corrupted read is made again from its example alone
        original = next(x["sequence"] for x in rows if x["id"] == r["id"] and x["profile"] == "clean")
        if r["profile"] != "clean":
            assert r["sequence"] == corrupt(original, r["id"], r["profile"], r["severity"], 42)
    rebuilt = corruption_summary(rows)
    assert all(summary[k] == v for k, v in rebuilt.items())
    halves = next(t for t in summary["corruptions"] if t["profile"] == "truncate")
    assert halves["label_changed"] is not None  # the embedded task's exact rule judged each read
    assert (out / "corruption_curves.png").is_file()
    assert run_cli("read", str(out)) == 0
    assert run_cli("corrupt", "+corruption.profiles.bogus=[0.1]", f"run_dir={tmp_path / 'bad'}") == 2
    assert not (tmp_path / "bad").exists()
