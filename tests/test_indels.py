"""Insertions and deletions (issue 19, item 1): edits in the original's coordinates, an edit-distance budget,
the 3' length fit, the label check over indels, and the records, summary, `read` and leaderboard that show
them. Every record is checked by an independent path: a right-to-left rebuild and a Levenshtein distance."""

from __future__ import annotations

import json
import math
import re

import pytest

import genoarmory as ga
from conftest import run_cli
from genoarmory.attacks.constraints import Candidate, ThreatModel
from genoarmory.attacks.constraints.label_preserving import PreservesLabel
from genoarmory.data.oracles.check import resolve_check
from genoarmory.edits import apply_any, cost, fit_length
from genoarmory.errors import UserError
from genoarmory.sequence import apply_edits

LIMIT = 12


def rebuild(original: str, edits) -> str:
    """Edits applied one by one from the rightmost (so earlier positions stay valid): not edits.apply_any's
    left-to-right pass. An insertion goes after any edit of the same base, as the base follows it."""
    chars = list(original)
    for pos, ref, alt in sorted(edits, key=lambda e: (e[0], 0 if not e[1] else 1), reverse=True):
        assert "".join(chars[pos:pos + len(ref)]) == ref, (pos, ref, alt)
        chars[pos:pos + len(ref)] = list(alt)
    return "".join(chars)


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


# -- the edits themselves ------------------------------------------------------------------------------------

def test_edits_apply_in_original_coordinates_in_any_order():
    original = "ACGTACGTAC"
    edits = [(7, "T", ""), (0, "", "GG"), (3, "T", "A"), (3, "", "C"), (10, "", "T")]
    want = "GG" + "ACG" + "C" + "A" + "ACG" + "" + "AC" + "T"
    assert apply_any(original, edits) == apply_any(original, edits[::-1]) == rebuild(original, edits) == want
    assert apply_edits(original, edits) == want  # the one entry point every reader uses
    assert cost(edits) == 1 + 2 + 1 + 1 + 1


@pytest.mark.parametrize("edits, why", [
    ([(2, "A", "")], "does not match"),
    ([(2, "GT", ""), (3, "T", "A")], "overlaps"),
    ([(2, "", "A"), (2, "", "C")], "overlaps"),
    ([(11, "", "A")], "outside"),
    ([(2, "GT", "AA")], "neither"),
])
def test_edits_that_do_not_hold_together_are_refused(edits, why):
    with pytest.raises(ValueError, match=why):
        apply_any("ACGTACGTAC", edits)


def test_substitutions_still_apply_as_they_always_did():
    assert apply_edits("ACGT", [(3, "T", "A"), (0, "A", "C")]) == "CCGA"
    with pytest.raises(ValueError, match="does not match"):
        apply_edits("ACGT", [(1, "A", "T")])


def test_the_length_fit_trims_and_pads_at_the_far_end():
    original = "ACGTTGCA"
    fitted, fit = fit_length(original, [(2, "", "AA")], len(original))
    assert apply_any(original, fitted) == ("AC" + "AA" + "GTTGCA")[:8] and fit == [(6, "C", ""), (7, "A", "")]
    fitted, fit = fit_length(original, [(1, "C", ""), (4, "T", "")], len(original))
    assert apply_any(original, fitted) == "AGTGCA" + "CT" and fit == [(8, "", "CT")]
    fitted, fit = fit_length(original, [(7, "A", "T"), (3, "", "G")], len(original))  # the substitute is pushed out
    assert apply_any(original, fitted) == "ACGGTTGC" and fit == [(7, "A", "")]


def test_the_budget_is_the_edit_distance_without_the_length_fit():
    original = "ACGT" * 10  # 40 nt, 10%: 4
    threat = ThreatModel(0.1, edits="indel", length="keep")
    start = Candidate(original, [], [])
    ok, = threat.extend(threat.original(original), start, [[(5, "", "GGGG")]])
    assert threat.spent(ok) == 4 and cost(ok.edits) == 8 and len(ok.sequence) == 40
    over, = threat.extend(threat.original(original), start, [[(5, "", "GGGGG")]])
    assert list(threat.admit([ok, over], threat.original(original))) == [True, False]
    # an edit where one was already made is never a candidate
    assert threat.extend(threat.original(original), ok, [[(5, "", "T")], [(4, "A", "")]]) != []
    assert [c.new for c in threat.extend(threat.original(original), ok, [[(5, "", "T")]])] == []


# -- the label oracle judges indels ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def task():
    from genoarmory.data import load_task
    from genoarmory.testing import compose

    return load_task(compose(["dataset.limit=4"]))


def test_the_element_oracle_follows_elements_an_indel_only_moved(task):
    check = resolve_check(task.oracles, "elements")
    example = next(e for e in task.split("test") if e.meta.get("motif_spans"))
    sequence, (start, end, _) = example.sequence, example.meta["motif_spans"][0]
    hits = check.signatures([sequence])[0]
    assert any(h.start == start for h in hits)
    threat = ThreatModel(0.5, edits="indel", length="change")
    made = Candidate(sequence, [], [])
    before = [(0, "", "A")] if start > 2 else [(len(sequence), "", "A")]
    inside = [(p, sequence[p], "") for p in range((start + end) // 2 - 1, (start + end) // 2 + 2)]
    moved, cut = threat.extend(threat.original(sequence), made, [before, inside])
    # independently: the moved sequence holds the same hits, shifted by one (or not at all, appended after)
    shifted = {(h.name, h.start + (before[0][0] == 0), h.end + (before[0][0] == 0)) for h in hits}
    assert {(h.name, h.start, h.end) for h in check.signatures([moved.sequence])[0]} == shifted
    kept = PreservesLabel(check).check_many([moved, cut], threat.original(sequence))
    assert list(kept) == [True, False]
    assert check.record_fields(sequence, moved.sequence, moved.edits)["label_preserved"] is True
    assert check.record_fields(sequence, cut.sequence, cut.edits)["label_preserved"] is False


# -- end to end: CLI, records, summary, read, Python API ---------------------------------------------------

def attack(tmp_path, name: str, *overrides: str):
    out = tmp_path / name
    assert run_cli("attack", f"dataset.limit={LIMIT}", f"run_dir={out}", "progress=false", *overrides) == 0
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    return out, records, json.loads((out / "summary.json").read_text())


def check_records(records, length: str, ratio: float = 0.1) -> int:
    """Every success rebuilds from its original by an independent path, within the budget; the indels seen."""
    indels = 0
    for r in records:
        if r["status"] != "success":
            continue
        edits = [tuple(e) for e in r["edits"]]
        fit = [tuple(e) for e in r.get("length_fit", [])]
        assert rebuild(r["sequence"], edits) == r["adv_sequence"]
        spent = cost(edits) - cost(fit)
        assert spent <= max(1, math.floor(ratio * len(r["sequence"]) + 1e-9))
        assert levenshtein(r["sequence"], r["adv_sequence"]) <= cost(edits)
        assert r["perturbation_rate"] == pytest.approx(spent / len(r["sequence"]))
        if length == "keep":
            assert len(r["adv_sequence"]) == len(r["sequence"])
        else:
            assert not fit
        indels += sum(1 for e in edits if (not e[1] or not e[2]) and e not in fit)
    return indels


@pytest.mark.parametrize("attack_name, edits, length", [
    ("random", "indel", "keep"), ("random", "all", "change"), ("bertattack", "indel", "change"),
    ("bertattack", "all", "keep"), ("fimba", "indel", "keep")])
def test_records_with_indels_rebuild_within_the_edit_distance(tmp_path, attack_name, edits, length):
    extra = ["attack.steps=4"] if attack_name == "fimba" else []
    out, records, summary = attack(tmp_path, "run", f"attack={attack_name}", f"attack.edits={edits}",
                                   f"attack.length={length}", *extra)
    assert any(r["status"] == "success" for r in records)
    assert check_records(records, length) > 0  # the attack did insert or delete
    assert summary["budget"]["edits"] == edits and summary["budget"]["length"] == length
    assert summary["average_indel_bases"] > 0
    assert run_cli("read", str(out), "--format", "json") == 0


def test_read_shows_the_edit_kinds_and_examples_show_insertions_and_deletions(tmp_path, capsys):
    out, records, _ = attack(tmp_path, "run", "attack=random", "attack.edits=indel", "attack.length=change")
    success = next(r for r in records if r["status"] == "success")
    capsys.readouterr()
    assert run_cli("read", str(out), "--format", "json") == 0
    row, = json.loads(capsys.readouterr().out)
    assert row["attack"] == "random (indel · edit distance ≤10% · length change)"
    assert run_cli("read", str(out), "--examples", "1") == 0
    text = capsys.readouterr().out.replace("│", "").replace("\n", " ")
    shown = [f"{p + 1}:{a or '-'}>{b or '-'}" for p, a, b in success["edits"]]
    assert ", ".join(shown[:12]) in " ".join(text.split())
    assert any(">-" in e for e in shown) or any(":->" in e for e in shown)


def test_the_summary_shows_indel_bases_only_where_the_threat_model_allows_indels(tmp_path, capsys):
    from genoarmory.metrics.registry import BY_KEY
    from genoarmory.report import print_summary

    row = re.compile(re.escape(BY_KEY["average_indel_bases"].label) + r"\s*│\s*0\.00")
    capsys.readouterr()
    _, _, summary = attack(tmp_path, "run", "attack=random")  # substitutions: no base can be inserted
    assert summary["average_indel_bases"] == 0.0 and not row.search(capsys.readouterr().out)
    print_summary({**summary, "attack": {**summary["attack"], "edits": "indel"}})  # allowed, none made
    assert row.search(capsys.readouterr().out)


def test_the_python_api_makes_indels(tmp_path):
    folder = ga.embedded_model("tiny-6mer")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    victim = ga.Victim.wrap(AutoModelForSequenceClassification.from_pretrained(folder / "model"),
                            AutoTokenizer.from_pretrained(folder / "model"), mlm=folder / "mlm")
    result = ga.attack(victim, task=ga.load_task("motif/tata"), limit=LIMIT, attack="random", edits="all",
                       max_edit_distance=0.3, length="change")
    records = [r.to_json() for r in result.records]
    assert check_records(records, "change", ratio=0.3) > 0
    assert any(len(r["adv_sequence"]) != len(r["sequence"]) for r in records if r["status"] == "success")
    with pytest.raises(UserError, match="attack.edits"):
        ga.attack(victim, task=ga.load_task("motif/tata"), limit=2, attack="random", edits="inversion")


@pytest.mark.parametrize("attack_name", ["textfooler", "pgd"])
def test_substitution_only_attacks_refuse_indels_in_one_line(tmp_path, capsys, attack_name):
    assert run_cli("attack", "dataset.limit=2", f"run_dir={tmp_path / 'x'}", "progress=false",
                   f"attack={attack_name}", "attack.edits=indel") != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "makes substitutions only" in err[0]


def test_length_change_refuses_a_model_it_would_overflow():
    from types import SimpleNamespace

    from genoarmory.attacks.run import check_room
    from genoarmory.data.example import Example

    victim = SimpleNamespace(encoder=SimpleNamespace(token_ids=lambda s: [0, *s, 0], max_length=112))
    examples = [Example("a", "ACGT" * 25, 0, {})]
    check_room(victim, examples, lambda n: 10)  # 100 nt + 10 inserted + 2 special tokens fit
    with pytest.raises(UserError, match="attack.length=keep"):
        check_room(victim, examples, lambda n: 11)


# -- the threat model travels: config hash, leaderboard --------------------------------------------------------

def test_substitution_runs_hash_as_before_and_indel_runs_do_not():
    from genoarmory.config import config_hash

    before = {"attack": {"name": "random", "max_perturb_ratio": 0.1}, "seed": 42}
    default = {"attack": {**before["attack"], "edits": "substitution", "length": "keep", "max_edit_distance": None},
               "seed": 42}
    assert config_hash(before) == config_hash(default)
    assert config_hash(before) != config_hash({**default, "attack": {**default["attack"], "edits": "indel"}})


def test_leaderboard_entries_keep_indel_threat_models_apart():
    from genoarmory.leaderboard.add import threat_model
    from genoarmory.leaderboard.entries import entry_id

    substitution = threat_model("random", {"max_perturb_ratio": 0.1, "query_budget": None}, "auto", "oracle")
    indel = threat_model("random", {"max_perturb_ratio": 0.1, "query_budget": None, "edits": "indel",
                                    "max_edit_distance": None, "length": "keep"}, "auto", "oracle")
    assert substitution["name"] == "random · ≤10% nt · no query cap · preserve=auto"
    assert indel["name"] == "random · indel · edit distance ≤10% · length keep · no query cap · preserve=auto"
    assert indel["edits"] == "indel" and "edits" not in substitution
    keys = {"source": "verified", "model": "m", "task": "t", "attack": "random", "defense": "none"}
    assert entry_id({**keys, "threat": substitution}) == "verified__m__t__random__none"
    assert entry_id({**keys, "threat": indel}) == "verified__m__t__random__none__indel-keep"


def test_protected_bases_are_neither_cut_into_nor_trimmed_away():
    original = "ACGT" * 10
    threat = ThreatModel(0.1, protected=[[10, 14], [39, 40]], edits="indel", length="keep")
    reference, start = threat.original(original), Candidate(original, [], [])
    inside, edge, far = threat.extend(reference, start, [[(12, "", "A")], [(10, "", "A")], [(20, "", "A")]])
    # an insertion inside [10, 14) is refused, one at its edge is not; any insertion trims base 39, protected
    assert list(threat.admit([inside, edge, far], reference)) == [False, False, False]
    change = ThreatModel(0.1, protected=[[10, 14], [39, 40]], edits="indel", length="change")
    inside, edge, far = change.extend(reference, start, [[(12, "", "A")], [(10, "", "A")], [(20, "", "A")]])
    assert list(change.admit([inside, edge, far], reference)) == [False, True, True]


def test_an_indel_run_is_its_own_leaderboard_entry(tmp_path, capsys):
    import shutil

    from genoarmory.leaderboard.add import protocol_mismatches
    from genoarmory.leaderboard.entries import entries_dir

    out = tmp_path / "run"  # the protocol's 100 examples
    assert run_cli("attack", "attack=random", "attack.edits=indel", f"run_dir={out}", "progress=false") == 0
    board = tmp_path / "board"
    (board / "data").mkdir(parents=True)
    shutil.copy(ga.__path__[0] + "/leaderboard/board/data/protocol.json", board / "data" / "protocol.json")
    assert run_cli("leaderboard", "--board", str(board), "add", str(out)) == 0
    path, = entries_dir(board).rglob("*.json")
    entry = json.loads(path.read_text())
    assert path.name == "motif-tata__random__none__indel-keep.json"
    assert entry["threat"]["edits"] == "indel" and "indel · edit distance ≤10% · length keep" in entry["threat"]["name"]
    capsys.readouterr()
    assert run_cli("read", "leaderboard", "--board", str(board), "--format", "json") == 0
    row, = json.loads(capsys.readouterr().out)
    assert row["attack"] == "random (indel · edit distance ≤10% · length keep)"
    summary = json.loads((out / "summary.json").read_text())
    summary["attack"]["max_edit_distance"] = 0.2
    protocol = json.loads((board / "data" / "protocol.json").read_text())
    assert any("max_edit_distance" in p for p in protocol_mismatches(summary, protocol))
