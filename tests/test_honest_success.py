"""Honest success: a success counts only when the true label survives.

Every claim is re-checked by an independent path: the embedded tasks' labels and motif hits are re-scanned
with Biopython's PSSM search (tests/independent_scan.py), not with the product's numpy scanner.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import compose, run_cli
from independent_scan import hits, task_label

from genoarmory.data import load_task
from genoarmory.testing import read_json_records

ATTACKS = ["bertattack", "textfooler", "random", "fimba", "pgd"]


@pytest.mark.parametrize("name", ["motif/tata", "motif/ctcf", "motif/grammar"])
def test_the_oracle_reproduces_every_label_of_every_embedded_split(name):
    task = load_task(compose([f"dataset={name}"]))
    oracle = task.oracles.label
    assert oracle.exact
    for split in ("train", "dev", "test"):
        examples = task.split(split)
        labels = oracle.labels([e.sequence for e in examples])
        assert (labels == np.array([e.label for e in examples])).all(), split
    # and the independent scan agrees with the oracle on the test split
    test = task.split("test")
    assert [task_label(e.sequence, task.info) for e in test] == [e.label for e in test]


def attack(run_dir: Path, *overrides: str) -> tuple[dict, list[dict]]:
    assert run_cli("attack", f"run_dir={run_dir}", "progress=false", *overrides) == 0
    return json.loads((run_dir / "summary.json").read_text()), read_json_records(run_dir / "records.jsonl")


@pytest.fixture(scope="module")
def tata_info():
    return load_task(compose(["dataset=motif/tata"])).info


@pytest.mark.parametrize("name", ATTACKS)
def test_under_the_oracle_no_success_changes_the_label(name, tmp_path, tata_info):
    summary, records = attack(tmp_path, f"attack={name}", "dataset.limit=16")
    check = summary["label_check"]
    assert check["mode"] == "oracle" and check["enforced"] and check["exact"]
    wins = [r for r in records if r["status"] == "success"]
    assert all(task_label(r["adv_sequence"], tata_info) == r["label"] for r in wins)  # independent re-scan
    assert all(r["label_preserved"] is True and r["adv_oracle_label"] == r["label"] for r in wins)
    assert summary["label_changed"] == 0 and summary["valid_asr"] == summary["asr"]


def test_the_textattack_bridge_is_held_to_the_oracle_too(tmp_path, tata_info):
    summary, records = attack(tmp_path, "attack=textattack", "dataset.limit=6", "attack.query_budget=300")
    assert summary["label_check"]["enforced"]
    assert all(task_label(r["adv_sequence"], tata_info) == r["label"] for r in records if r["status"] == "success")


def test_the_papers_protocol_counts_the_label_changes(tmp_path, tata_info):
    summary, records = attack(tmp_path, "attack.preserve=none", "dataset.limit=30")
    assert not summary["label_check"]["enforced"] and summary["label_check"]["mode"] == "oracle"
    wins = [r for r in records if r["status"] == "success"]
    changed = sum(task_label(r["adv_sequence"], tata_info) != r["label"] for r in wins)
    assert changed > 0  # on the embedded default most raw successes rewrite the TATA box
    assert summary["label_changed"] == changed == sum(r["label_preserved"] is False for r in wins)
    assert summary["valid_asr"] == pytest.approx((len(wins) - changed) / summary["n_attacked"])
    assert "motif_enrichment_label_preserving" in summary


def test_elements_mode_keeps_every_motif_hit(tmp_path, tata_info):
    summary, records = attack(tmp_path, "attack=random", "attack.preserve=elements", "dataset.limit=20")
    assert summary["label_check"]["mode"] == "elements"
    bg, (m,) = tata_info["background"]["probs"], tata_info["motifs"]
    for r in records:
        if r["status"] == "success":
            assert hits(r["adv_sequence"], m["matrix_id"], m["threshold"], bg) == \
                hits(r["sequence"], m["matrix_id"], m["threshold"], bg)
            assert r["element_changes"] == []


class ParityVictim:
    """A stand-in victim that any single G edit fools (class = number of G's mod 2, for correct originals):
    successes come at once, so only the label check stands between an attack and the label-defining sites."""

    num_labels, device, reduced_precision, queries = 2, None, False, 0

    def __init__(self, examples):
        self.flip = {e.sequence: (e.sequence.count("G") + e.label) % 2 for e in examples}
        self.encoder = type("E", (), {"check_lengths": staticmethod(lambda examples: None)})()

    def predict_proba(self, sequences, use_cache=True, exact=False):
        out = np.zeros((len(sequences), 2), dtype=np.float32)
        for i, s in enumerate(sequences):
            parity = (s.count("G") + self.flip.get(s, 0)) % 2
            out[i, parity] = 1.0
        return out


def test_grammar_rule_is_enforced_for_an_ordered_pair(tmp_path):
    from genoarmory.attacks.run import attack_examples

    cfg = compose(["dataset=motif/grammar", "attack=random", "attack.max_perturb_ratio=0.3", "dataset.limit=40"])
    task = load_task(cfg)
    examples = task.split("test")[:40]
    victim = ParityVictim(examples)
    records, check = attack_examples(cfg, victim, examples, tmp_path, "test", task)
    wins = [r for r in records if r.succeeded]
    assert check.enforced and len(wins) >= 20
    assert all(task_label(r.adv_sequence, task.info) == r.label for r in wins)  # independent re-scan
    unchecked, _ = attack_examples(compose(["dataset=motif/grammar", "attack=random", "attack.preserve=none",
                                            "attack.max_perturb_ratio=0.3"]), victim, examples, tmp_path / "none",
                                   "test", task)
    assert sum(task_label(r.adv_sequence, task.info) != r.label for r in unchecked if r.succeeded) == \
        sum(r.label_preserved is False for r in unchecked)


def test_protected_meta_protects_each_examples_motif(tmp_path):
    _, records = attack(tmp_path, "attack=random", "attack.protected=meta", "attack.preserve=none",
                        "dataset.limit=20", "attack.max_perturb_ratio=0.3")
    for r in records:
        inside = {p for s, e, *_ in r["meta"]["motif_spans"] for p in range(s, e)}
        assert not inside & {p for p, _, _ in r["edits"]}
    assert any(r["meta"]["motif_spans"] and r["edits"] for r in records)  # the rule was exercised


def test_targeted_attacks_skip_examples_already_in_the_target_class():
    from genoarmory.attacks.goal import Goal
    from genoarmory.attacks.search import skipped
    from genoarmory.metrics.compute import attack_metrics
    from genoarmory.testing import record

    correct = np.array([0.1, 0.1, 0.8])
    assert skipped(Goal(2, target=2), correct, 2).extra == {"skip_reason": "already_target"}
    assert skipped(Goal(1, target=2), np.array([0.1, 0.8, 0.1]), 1) is None
    assert skipped(Goal(1, target=2), correct, 1).extra == {"skip_reason": "misclassified"}
    records = [record("a", label=2, num_labels=3, status="skipped", skip_reason="already_target"),
               record("b", label=1, num_labels=3, status="success", adv_sequence="ACGTACGTAA",
                      label_preserved=True)]
    m = attack_metrics(records, 3)
    assert m["n_skipped_target"] == 1 and m["n_attacked"] == 1 and m["asr"] == 1.0


def gue_root(tmp_path: Path, group: str, task: str, rows: list[tuple[str, int]]) -> Path:
    folder = tmp_path / "gue" / group / task
    folder.mkdir(parents=True)
    text = "sequence,label\n" + "".join(f"{s},{y}\n" for s, y in rows)
    for split in ("train", "dev", "test"):
        (folder / f"{split}.csv").write_text(text)
    return tmp_path / "gue"


def test_a_task_without_an_oracle_says_not_verifiable(tmp_path, quick_tiny_model, capsys):
    rng = np.random.default_rng(0)
    rows = [("".join(rng.choice(list("ACGT"), 60)), i % 2) for i in range(12)]
    root = gue_root(tmp_path, "EMP", "H3", rows)
    common = ["dataset=gue/EMP/H3", f"data_root={root}", f"model.path={quick_tiny_model / 'model'}",
              "attack=random", "dataset.limit=8"]
    summary, _ = attack(tmp_path / "run", *common)
    check = summary["label_check"]
    assert not check["verifiable"] and "histone" in check["note"]
    assert summary["valid_asr"] is None and summary["label_changed"] is None
    assert "not verifiable" in capsys.readouterr().out
    assert run_cli("attack", f"run_dir={tmp_path / 'refused'}", "progress=false", *common,
                   "attack.preserve=oracle") == 2
    assert "has no label oracle" in capsys.readouterr().err


def test_a_trusted_model_oracle_is_reported_as_a_model(tmp_path, quick_tiny_model):
    summary, records = attack(tmp_path, f"attack.oracle={quick_tiny_model / 'model'}", "attack=random",
                              "dataset.limit=8")
    check = summary["label_check"]
    assert check["mode"] == "oracle" and not check["exact"] and "trusted model" in check["checker"]["name"]


def test_splice_sites_are_elements():
    from genoarmory.data.oracles.splice import SpliceSites

    rng = np.random.default_rng(1)
    seq = list("".join(rng.choice(list("CT"), 60)))
    seq[27:33] = list("CAGGTA")  # acceptor ...CAG| at 28-29 is "AG"; donor GT at 30-31 (UCI layout)
    donor = "".join(seq)
    oracle = SpliceSites(donor_at=30, acceptor_at=28)
    (found,) = oracle.elements([donor])
    assert {e.name for e in found} >= {"donor-GT", "acceptor-AG"}
    broken = donor[:30] + "CT" + donor[32:]
    assert "donor-GT" not in {e.name for e in oracle.elements([broken])[0]}


@pytest.fixture(scope="module")
def real_gue(shared_dir) -> Path:
    root = shared_dir / "data" / "gue"
    if not (root / "tf" / "0").is_dir():
        pytest.skip(f"{root}/tf/0 absent")
    return root


@pytest.mark.parametrize("task", ["tf/0", "prom/prom_core_all"])
def test_element_oracle_on_real_gue_finds_and_preserves_hits(task, real_gue, tmp_path, quick_tiny_model):
    loaded = load_task(compose([f"dataset=gue/{task}", f"data_root={real_gue}"]))
    oracle = loaded.oracles.elements
    test = loaded.split("test")[:400]
    found = oracle.elements([e.sequence for e in test])
    assert sum(bool(f) for f in found) >= 10  # the elements are there to be kept
    summary, records = attack(tmp_path, f"dataset=gue/{task}", f"data_root={real_gue}", "attack=random",
                              f"model.path={quick_tiny_model / 'model'}", "dataset.limit=30",
                              "attack.max_perturb_ratio=0.2")
    assert summary["label_check"]["mode"] == "elements" and summary["label_check"]["enforced"]
    motifs = summary["label_check"]["checker"]["motifs"]
    release = "JASPAR2020" if task.startswith("prom") else "JASPAR2026"
    background = (summary["label_check"]["checker"].get("details") or {}).get("background", [0.25] * 4)
    for r in records:
        if r["status"] == "success":  # independent re-scan of every element motif
            for m in motifs:
                assert hits(r["adv_sequence"], m["matrix_id"], m["threshold"], background, release) == \
                    hits(r["sequence"], m["matrix_id"], m["threshold"], background, release)


def test_genoadv_publishes_only_label_preserving_successes(tmp_path, tata_info):
    import pyarrow.parquet as pq

    summary, records = attack(tmp_path / "run", "attack.preserve=none", "dataset.limit=12")
    changed = sum(r["label_preserved"] is False for r in records if r["status"] == "success")
    assert changed > 0
    assert run_cli("genoadv", "build", f"runs=[{tmp_path / 'run'}]", f"run_dir={tmp_path / 'adv'}", "progress=false") == 0
    manifest = json.loads((tmp_path / "adv" / "build.json").read_text())
    assert manifest["configs"]["motif_tata"]["label_changed_excluded"] == changed
    table = pq.read_table(next((tmp_path / "adv").rglob("test_adversarial*.parquet"))).to_pylist()
    assert table and all(row["label_preserved"] is True for row in table)
    assert all(task_label(row["sequence"], tata_info) == row["label"] for row in table)  # independent re-scan
    assert json.loads(table[0]["label_check"])["mode"] == "oracle"
