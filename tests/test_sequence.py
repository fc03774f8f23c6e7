import random

import pytest

from genoarmory.errors import UserError
from genoarmory.sequence import SkipSequence, apply_edits, diff_edits, encode_bases, gc_content, normalize


def test_upper_cases_and_strips():
    assert normalize("  acgT\n") == "ACGT"


@pytest.mark.parametrize("policy", ["error", "skip", "replace"])
def test_empty_sequence_is_always_an_error(policy):
    with pytest.raises(UserError, match="empty sequence") as err:
        normalize("   ", policy, where="x.csv:7")
    assert "x.csv:7" in str(err.value)


def test_ambiguous_base_under_each_policy():
    with pytest.raises(UserError, match=r"ambiguous base 'N' at position 3") as err:
        normalize("ACNT", "error", where="f.csv:2")
    assert str(err.value).startswith("f.csv:2")
    with pytest.raises(SkipSequence):
        normalize("ACNT", "skip")
    out = normalize("ACNTRY", "replace", rng=random.Random(1))
    assert len(out) == 6 and set(out) <= set("ACGT") and out[:2] == "AC" and out[3] == "T"
    assert out == normalize("ACNTRY", "replace", rng=random.Random(1))  # seeded: reproducible


@pytest.mark.parametrize("policy", ["error", "skip", "replace"])
def test_non_dna_characters_are_errors_under_every_policy(policy):
    with pytest.raises(UserError, match=r"'X' at position 2 is not DNA"):
        normalize("AXGT", policy, where="f.csv:3")


def test_unknown_policy():
    with pytest.raises(UserError, match="unknown sequence policy"):
        normalize("ACGT", "ignore")


def test_edits_round_trip_and_guard_stale_references():
    edits = diff_edits("ACGTACGT", "ACCTACGA")
    assert edits == [(2, "G", "C"), (7, "T", "A")]
    assert apply_edits("ACGTACGT", edits) == "ACCTACGA"
    with pytest.raises(ValueError):
        apply_edits("AAGTACGT", [(0, "C", "G")])


def test_encode_bases_and_gc():
    codes = encode_bases(["ACGT", "NNAA"])
    assert codes.tolist() == [[0, 1, 2, 3], [4, 4, 0, 0]]
    assert gc_content("GGCA") == 0.75
