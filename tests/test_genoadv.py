"""GenoAdv build / card / load / verify.

The build tests use hand-made attack runs over a small embedded motif task (no model): each planted
record tests one rule — rejection, deduplication, and keeping test-derived sequences out of training.
The end-to-end test attacks the session's quick tiny model, builds, verifies with fresh forward passes,
and trains on the result through `dataset=genoadv/motif_tata`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import QUICK_TRAIN, compose, run_cli
from omegaconf import OmegaConf

from genoarmory.data import load_task
from genoarmory.errors import UserError
from genoarmory.sequence import diff_edits

SMALL_TASK = ["dataset.loader.n_train=40", "dataset.loader.n_dev=12", "dataset.loader.n_test=12"]


def flip(seq: str, positions: list[int]) -> tuple[str, list[list]]:
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    chars = list(seq)
    for p in positions:
        chars[p] = swap[chars[p]]
    adv = "".join(chars)
    return adv, [[p, seq[p], adv[p]] for p in positions]


def record(example, adv: str | None, edits: list, config_hash: str, status: str = "success") -> dict:
    wrong = 1 - example.label
    probs = [0.2, 0.8] if wrong == 1 else [0.8, 0.2]
    return {"id": example.id, "label": example.label, "sequence": example.sequence, "clean_pred": example.label,
            "clean_probs": probs[::-1], "status": status, "adv_sequence": adv if status == "success" else None,
            "adv_pred": wrong if status == "success" else example.label,
            "adv_probs": probs if status == "success" else probs[::-1], "edits": edits, "queries": 30,
            "perturbation_rate": len(edits) / len(example.sequence), "seconds": 0.1, "attack": "random",
            "seed": 42, "config_hash": config_hash, "meta": example.meta}


def write_run(folder: Path, split: str, records: list[dict], config_hash: str) -> Path:
    folder.mkdir(parents=True)
    cfg = compose(["dataset=motif/tata", f"dataset.split={split}", *SMALL_TASK])
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = {"config_hash": config_hash, "model": {"name": "tiny-6mer", "path": str(folder / "no-model")},
               "attack": {"name": "random", "max_perturb_ratio": 0.1, "query_budget": None, "targeted": False},
               "defense": {"name": "none"}, "budget": {"max_perturb_ratio": 0.1, "query_budget": None},
               "seed": 42, "versions": {"genoarmory": "test"}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Three hand-made runs (train, dev, test) and the GenoAdv built from them."""
    root = tmp_path_factory.mktemp("genoadv-build")
    task = load_task(compose(["dataset=motif/tata", *SMALL_TASK]))
    train, dev, test = task.split("train"), task.split("dev"), task.split("test")
    good = [record(e, *flip(e.sequence, [10, 40]), "hashtrain") for e in train[:5]]
    dup_of = good[0]["adv_sequence"]
    leak_adv = test[0].sequence  # an "adversarial" train example identical to a clean test sequence
    planted_train = good + [
        record(train[5], leak_adv, [list(e) for e in diff_edits(train[5].sequence, leak_adv)], "hashtrain"),
        record(train[6], flip(train[6].sequence, [3])[0], [[3, "N", "A"]], "hashtrain"),  # edits do not rebuild
        record(train[7], None, [], "hashtrain", status="failed"),
    ]
    # a second train run that found the same adversarial sequence again (deduplicated)
    twin = [record(train[0], dup_of, good[0]["edits"], "hashtwin")]
    dev_records = [record(e, *flip(e.sequence, [20]), "hashdev") for e in dev[:3]]
    test_records = [record(e, *flip(e.sequence, [50, 51]), "hashtest") for e in test[:4]]
    runs = [write_run(root / "train", "train", planted_train, "hashtrain"),
            write_run(root / "sweep" / "0", "train", twin, "hashtwin"),  # found through its sweep folder
            write_run(root / "dev", "dev", dev_records, "hashdev"),
            write_run(root / "test", "test", test_records, "hashtest")]
    out = root / "genoadv"
    assert run_cli("genoadv", "build", f"runs=[{runs[0]},{root / 'sweep'},{runs[2]},{runs[3]}]", f"run_dir={out}",
                   "progress=false") == 0
    tables = {s: pq.read_table(out / "motif_tata" / f"{s}.parquet").to_pylist()
              for s in ("train", "validation", "test", "test_adversarial")}
    return {"out": out, "task": task, "tables": tables, "manifest": json.loads((out / "build.json").read_text()),
            "leak": leak_adv, "runs": runs}


def test_build_splits_counts_and_rejections(planted):
    t, task, m = planted["tables"], planted["task"], planted["manifest"]["configs"]["motif_tata"]
    adversarial = {s: [r for r in rows if r["is_adversarial"]] for s, rows in t.items()}
    assert len(adversarial["train"]) == 5  # 5 good; leak removed, broken rejected, failed skipped, twin deduplicated
    assert len(adversarial["validation"]) == 3 and len(adversarial["test_adversarial"]) == 4
    assert m["rejected"] == {"edits do not apply to the sequence (edit 3:N>A does not match base 'A')": 1}
    assert m["removed_as_test_derived"]["train"] == 1 and m["duplicates_removed"]["train"] == 1
    assert [r["sequence"] for r in t["test"]] == [e.sequence for e in task.split("test")]  # the clean test split
    assert not any(r["is_adversarial"] for r in t["test"])
    assert m["splits"]["train"] == {"clean": 40, "adversarial": 5}
    # each adversarial example follows its clean original (a train.max_train prefix keeps both)
    ids = [r["id"] for r in t["train"]]
    assert ids[:3] == ["train:0", "hashtrain/train:0", "train:1"]


def test_no_test_derived_sequence_reaches_training_splits(planted):
    t = planted["tables"]
    test_derived = {r["sequence"] for s in ("test", "test_adversarial") for r in t[s]}
    test_derived |= {r["original_sequence"] for r in t["test_adversarial"]}
    for split in ("train", "validation"):
        seen = {r["sequence"] for r in t[split]} | {r["original_sequence"] for r in t[split] if r["original_sequence"]}
        assert not seen & test_derived, split
    assert planted["leak"] not in {r["sequence"] for r in t["train"]}


def test_adversarial_rows_carry_provenance(planted):
    from genoarmory.sequence import apply_edits

    row = next(r for r in planted["tables"]["train"] if r["is_adversarial"])
    assert apply_edits(row["original_sequence"], [(e["position"], e["ref"], e["alt"]) for e in row["edits"]]) == row["sequence"]
    assert row["adv_pred"] != row["label"] and row["adv_confidence"] == pytest.approx(0.8)
    assert (row["attack"], row["victim"], row["defense"], row["config_hash"]) == ("random", "tiny-6mer", "none", "hashtrain")
    assert row["record_id"] == "train:0" and row["max_perturb_ratio"] == 0.1 and row["queries"] == 30
    assert json.loads(row["victim_config"])["name"] == "tiny-6mer"
    assert row["n_edits"] == 2 and row["source_split"] == "train"


def test_genoadv_rows_of_an_indel_run_hold_insertions_and_deletions_as_the_schema_says(tmp_path):
    from genoarmory.edits import apply_any, kind
    from genoarmory.genoadv.schema import FIELDS

    run, out = tmp_path / "run", tmp_path / "genoadv"
    assert run_cli("attack", "attack=random", "attack.edits=indel", "attack.length=change", "dataset.limit=12",
                   f"run_dir={run}", "progress=false") == 0
    assert run_cli("genoadv", "build", f"runs=[{run}]", f"run_dir={out}", "progress=false") == 0
    rows = pq.read_table(out / "motif_tata" / "test_adversarial.parquet").to_pylist()
    edits = {r["id"]: [(e["position"], e["ref"], e["alt"]) for e in r["edits"]] for r in rows}
    assert all(apply_any(r["original_sequence"], edits[r["id"]]) == r["sequence"] for r in rows)
    kinds = {kind(e) for row in edits.values() for e in row}
    assert kinds and kinds <= {"insertion", "deletion"}  # GenoAdv keeps an indel run's edits as they are
    described = next(text for name, _, text in FIELDS if name == "edits")
    assert all(k in described for k in kinds), described


def test_card_loads_with_datasets_offline(planted, tmp_path, monkeypatch):
    import datasets

    from genoarmory.hub import card_configs

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    out = planted["out"]
    card = (out / "README.md").read_text()
    assert "## Dual use" in card and "license: cc-by-nc-4.0" in card and "| `motif_tata` | motif/tata | 2 | 40 + 5 |" in card
    assert set(card_configs(out)["motif_tata"]) == {"train", "validation", "test", "test_adversarial"}
    ds = datasets.load_dataset(str(out), "motif_tata", cache_dir=str(tmp_path / "hf"))
    assert {s: ds[s].num_rows for s in ds} == {s: len(rows) for s, rows in planted["tables"].items()}
    assert ds["train"].features["edits"].feature["position"].dtype == "int32"


def test_genoadv_config_loads_as_task(planted):
    cfg = compose(["dataset=genoadv/motif_tata", f"dataset.source={planted['out']}"])
    task = load_task(cfg)
    assert {k: len(v) for k, v in task.splits.items()} == {s2: len(planted["tables"][s1]) for s1, s2 in
                                                           [("train", "train"), ("validation", "dev"), ("test", "test"),
                                                            ("test_adversarial", "test_adversarial")]}
    adv = [e for e in task.split("train") if e.meta["genoadv_adversarial"]]
    originals = {e.id: e for e in planted["task"].split("train")}
    assert adv and all(e.label == originals[e.id.split("/")[1]].label for e in adv)  # TRUE labels


def test_genoadv_from_the_hub_cache_offline(planted, tmp_path, monkeypatch):
    """`download genoadv --source DIR` fills the cache; `dataset=genoadv/<config>` then finds it offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "cache"
    assert run_cli("download", "genoadv", "--source", str(planted["out"]), "--cache-dir", str(cache)) == 0
    task = load_task(compose(["dataset=genoadv/motif_tata", f"cache_dir={cache}", "offline=1"]))
    assert task.info["source"].startswith("GenoAdv magicslabnu/GenoAdv") and len(task.split("test")) == 12
    with pytest.raises(UserError, match="no config 'motif_ctcf'"):
        load_task(compose(["dataset=genoadv/motif_ctcf", f"cache_dir={cache}", "offline=1"]))


def test_config_names():
    from genoarmory.genoadv.schema import config_name

    assert [config_name(n) for n in ("gue/EMP/H3", "gue/prom/prom_300_all", "gue/tf/0", "gue/mouse/4",
                                     "motif/tata", "genoadv/tf_0")] == ["H3", "prom_300_all", "tf_0", "mouse_4",
                                                                        "motif_tata", "tf_0"]


def test_verify_rebuilds_a_moved_hub_victim_from_its_snapshot_path():
    from genoarmory.genoadv.verify import source_model_config

    commit = "0123456789abcdef0123456789abcdef01234567"
    moved = f"/elsewhere/hub/models--magicslabnu--DNABERT-2-117M-finetuned-H3/snapshots/{commit}"
    cfg = source_model_config(json.dumps({"name": "dnabert2", "family": "hf", "use_finetuned": True,
                                          "hub_id": "zhihan1996/DNABERT-2-117M"}), moved, commit)
    assert (cfg["hub_id"], cfg["revision"], cfg["use_finetuned"], cfg["path"]) == (
        "magicslabnu/DNABERT-2-117M-finetuned-H3", commit, False, None)
    with pytest.raises(UserError, match="weights are gone"):
        source_model_config(json.dumps({"name": "tiny-6mer", "family": "tiny"}), "/gone/model", "sha256:00")


def test_build_refuses_bad_input(planted, tmp_path, capsys):
    stranger = tmp_path / "not-genoadv"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    assert run_cli("genoadv", "build", f"runs=[{planted['runs'][0]}]", f"run_dir={stranger}") == 2
    assert (stranger / "notes.txt").exists()
    assert run_cli("genoadv", "build", f"runs=[{tmp_path / 'missing'}]", f"run_dir={tmp_path / 'o'}") == 2
    assert run_cli("genoadv", "build", "runs=[]", f"run_dir={tmp_path / 'o'}") == 2
    assert run_cli("genoadv", "build", f"runs=[{planted['runs'][0]}]", "colour=blue") == 2
    assert run_cli("genoadv", "verify", str(tmp_path / "missing")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith("genoarmory: error:") for line in err)


@pytest.fixture(scope="module")
def shipped_default_model() -> Path:
    """The embedded default's shipped weights (no training); skip when this config has none."""
    from genoarmory.models.tiny import SHIPPED, cache_key

    folder = SHIPPED / f"tiny-6mer-motif-tata-{cache_key(compose([]))}"
    if not (folder / "model" / "config.json").is_file():
        pytest.skip(f"no shipped weights for the default config ({folder})")
    return folder


@pytest.mark.slow
def test_end_to_end_attack_build_verify_train(shipped_default_model, tmp_path, capsys):
    """A real attack on the shipped default model -> GenoAdv -> 100 % on the source victim -> train on it."""
    small = ["dataset.loader.n_train=300"]  # the test split does not depend on n_train; the build stays small
    run = tmp_path / "attack-train"
    assert run_cli("attack", f"model.path={shipped_default_model / 'model'}", "dataset.split=train",
                   "dataset.limit=6", *small, f"run_dir={run}", "progress=false") == 0
    out = tmp_path / "genoadv"
    assert run_cli("genoadv", "build", f"runs=[{run}]", f"run_dir={out}", "progress=false") == 0
    n_adv = pq.read_table(out / "motif_tata" / "train.parquet").column("is_adversarial").to_pylist().count(True)
    assert n_adv > 0
    capsys.readouterr()
    assert run_cli("genoadv", "verify", str(out), "--no-progress", "--fail-under", "100") == 0
    assert f"still fool their victim: {n_adv} / {n_adv} (100.00 %)" in capsys.readouterr().out
    group = json.loads((out / "verify.json").read_text())["configs"]["motif_tata"]["groups"][0]
    assert group["max_prob_difference"] < 1e-4 and group["weights_changed"] is False
    # transfer mode, pointed at the same weights: every example is scored as by another model
    assert run_cli("genoadv", "verify", str(out), "--model", str(shipped_default_model), "--model-name", "tiny-6mer",
                   "--no-progress", "--out", str(tmp_path / "transfer.json")) == 0
    transfer = json.loads((tmp_path / "transfer.json").read_text())
    assert transfer["mode"] == "transfer" and transfer["percent"] == 100.0
    assert transfer["fooled_where_original_correct"] == transfer["original_correct"] == n_adv
    # train on the GenoAdv config (what defend's AT does): clean + adversarial train, the clean test split
    train_dir = tmp_path / "train-genoadv"
    assert run_cli("train", "model=tiny-6mer", "dataset=genoadv/motif_tata", f"dataset.source={out}",
                   f"run_dir={train_dir}", "progress=false", "train.max_train=100", "train.epochs=1",
                   "model.pretrain_mlm_epochs=0", *(o for o in QUICK_TRAIN if o.startswith("model.arch."))) == 0
    metrics = json.loads((train_dir / "metrics.json").read_text())
    assert metrics["n_test"] == 500 and metrics["config"]["dataset"]["name"] == "genoadv/motif_tata"
