"""Your own model and data with no config written: `model.path=DIR` alone, `dataset=csv`, GUE as published."""

from __future__ import annotations

import json
import shutil

import pytest

import genoarmory as ga
from conftest import compose, run_cli
from genoarmory.data import load_task

GUE_TASKS = ["tf/0", "tf/1", "tf/2", "tf/3", "tf/4", "mouse/0", "mouse/2", "mouse/3", "mouse/4",
             "prom/prom_core_all", "prom/prom_core_notata", "prom/prom_core_tata", "prom/prom_300_tata"]


@pytest.fixture(scope="module")
def own_model(tmp_path_factory):
    """A copy of the embedded model in a folder of the user's: model/ and mlm/ under `promoter-net/`."""
    root = tmp_path_factory.mktemp("mine") / "promoter-net"
    shutil.copytree(ga.embedded_model("tiny-6mer"), root)
    return root / "model"


@pytest.fixture(scope="module")
def motif_csv(tmp_path_factory):
    """motif/tata's first test examples as a user's CSV (an independent file, not a config)."""
    task = load_task(compose())
    rows = "".join(f"{e.sequence},{e.label}\n" for e in task.split("test")[:3])
    folder = tmp_path_factory.mktemp("csv")
    (folder / "my_tata.csv").write_text("sequence,label\n" + rows)
    return folder / "my_tata.csv"


def test_model_path_alone_is_read_from_the_folder(own_model, tmp_path, monkeypatch):
    cfg = compose([f"model.path={own_model}"])
    assert cfg.model.family == "hf" and cfg.model.name == "promoter-net-model"
    monkeypatch.chdir(tmp_path)
    assert run_cli("attack", f"model.path={own_model}", "dataset.limit=2", "attack=random", "progress=false") == 0
    (summary_path,) = tmp_path.glob("runs/attack/*/*/*/summary.json")
    assert summary_path.parts[-4] == "promoter-net-model"  # the run folder is named after it, not a hub model
    summary = json.loads(summary_path.read_text())
    assert summary["model"]["name"] == "promoter-net-model"
    assert summary["model"]["model_type"] == "bert" and summary["model"]["tokenization"] == "kmer"


def test_user_csv_is_attacked_and_named_after_itself(own_model, motif_csv, tmp_path):
    out = tmp_path / "run"
    assert run_cli("attack", f"model.path={own_model}", "dataset=csv", f"dataset.path={motif_csv}",
                   f"run_dir={out}", "progress=false") == 0  # bertattack: mlm/ beside the model folder
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"]["name"] == "my_tata" and summary["dataset"]["num_labels"] == 2
    assert summary["n_examples"] == 3


def test_a_csv_folder_needs_only_the_attacked_split(motif_csv, tmp_path):
    (tmp_path / "train.csv").write_text("")  # empty: no split, not an error
    (tmp_path / "dev.csv").write_text("sequence,label\nACGT,notalabel\n")  # broken, but never read by attack
    shutil.copy(motif_csv, tmp_path / "test.csv")
    task = load_task(compose(["dataset=csv", f"dataset.path={tmp_path}", "dataset.num_labels=2"]))
    assert list(task.splits) == ["dev", "test"] and len(task.split("test")) == 3


def test_own_data_without_a_model_says_so_up_front(motif_csv, tmp_path, capsys):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">a label=1\nACGTACGTAC\n")
    for dataset in (["dataset=fasta", f"dataset.path={fasta}"], ["dataset=csv", f"dataset.path={motif_csv}"]):
        assert run_cli("attack", *dataset, f"run_dir={tmp_path / 'run'}") == 2
        assert "needs model.path=DIR" in capsys.readouterr().err
        assert not (tmp_path / "run").exists()


def test_gue_as_published_skips_n_and_counts_it(tmp_path, own_model):
    """prom_300_all's train split holds N (line 4844 as published): skipped and counted, not fatal."""
    task_dir = tmp_path / "prom" / "prom_300_all"
    task_dir.mkdir(parents=True)
    clean = "ACGT" * 75
    for split in ("train", "dev", "test"):
        rows = [f"{clean},{i % 2}" for i in range(4)]
        if split != "dev":
            rows.insert(2, f"{clean[:100]}N{clean[101:]},1")
        (task_dir / f"{split}.csv").write_text("sequence,label\n" + "\n".join(rows) + "\n")
    task = load_task(compose(["dataset=gue/prom/prom_300_all", f"data_root={tmp_path}"]))
    assert [len(task.split(s)) for s in ("train", "dev", "test")] == [4, 4, 4]
    assert task.info["skipped"] == {"train": 1, "test": 1}
    with pytest.raises(Exception, match="ambiguous base 'N' at position 101"):
        load_task(compose(["dataset=gue/prom/prom_300_all", f"data_root={tmp_path}",
                           "+dataset.loader.ambiguous=error"])).split("train")
    result = ga.attack(ga.Victim.from_pretrained(own_model),
                       task=ga.load_task("gue/prom/prom_300_all", data_root=tmp_path), attack="random", query_budget=5)
    assert result.summary["dataset"]["skipped_sequences"] == 1


@pytest.mark.parametrize("name", GUE_TASKS)
def test_every_shared_gue_task_loads(name, shared_dir):
    task = load_task(compose([f"dataset=gue/{name}", f"data_root={shared_dir / 'data' / 'gue'}"]))
    splits = ("train", "dev", "test") if name.startswith("mouse/") else ("dev", "test")  # small trains: all
    for split in splits:
        rows = (shared_dir / "data" / "gue" / name / f"{split}.csv").read_text().strip().count("\n")
        assert len(task.split(split)) == rows


def test_a_folder_given_to_a_hub_models_config_is_named_after_itself(own_model, tmp_path, monkeypatch, capsys):
    """`model=<hub config> model.path=DIR`: the config's code path and tokenization, the folder's name — in
    the run folder, the printed table, summary.json and the leaderboard (issue 16: never a hub model's name)."""
    from genoarmory.leaderboard.identity import filed_model, model_identity

    monkeypatch.chdir(tmp_path)
    assert run_cli("attack", "model=nt1-500m", f"model.path={own_model}", "dataset.limit=2", "attack=random",
                   "progress=false") == 0
    (summary_path,) = tmp_path.glob("runs/attack/*/*/*/summary.json")
    assert summary_path.parts[-4] == "promoter-net-model"
    summary = json.loads(summary_path.read_text())
    assert (summary["model"]["name"], summary["model"]["family"]) == ("promoter-net-model", "nt1-500m")
    assert summary["config"]["model"]["tokenization"] == "kmer"  # loaded as nt1-500m says: its tokenization
    out = capsys.readouterr().out
    assert "promoter-net-model · motif/tata · random" in out and "nt1-500m ·" not in out
    filed, hub_id, _ = filed_model(summary["model"]["name"], model_identity(summary["model"]["path"]),
                                   summary["model"]["family"])
    assert (filed, hub_id) == ("promoter-net-model", None)


def test_a_hub_snapshot_of_the_configs_own_hub_id_keeps_the_configs_name(own_model, tmp_path):
    from genoarmory.models.derive import run_names

    snapshot = tmp_path / "models--InstaDeepAI--nucleotide-transformer-500m-human-ref" / "snapshots" / "abc123"
    shutil.copytree(own_model, snapshot)
    named = lambda path, model="nt1-500m": run_names(compose([f"model={model}", f"model.path={path}"]).model)
    assert named(snapshot) == {"name": "nt1-500m", "family": "nt1-500m"}
    # the same snapshot under another hub config is not that model: its repository and revision name it
    assert named(snapshot, "nt2-500m")["name"] == "InstaDeepAI/nucleotide-transformer-500m-human-ref@abc123"
    assert run_names(compose(["model=nt1-500m"]).model) == {"name": "nt1-500m", "family": "nt1-500m"}  # its hub id
    assert run_names(compose([f"model.path={own_model}"]).model) == {"name": "promoter-net-model", "family": "local"}
    assert run_names(compose(["model=nt1-500m", "model.name=mine", f"model.path={own_model}"]).model) == \
        {"name": "mine", "family": None}  # a name you give is kept


def test_a_folder_train_wrote_for_an_embedded_model_keeps_that_models_name(own_model, tmp_path):
    """`train model=tiny-6mer` writes <run>/model and <run>/metrics.json (its config): the project recorded
    which embedded model it trained, so the folder is that model (GUE's tiny-6mer entries); a fine-tune of
    a hub model, or a folder with no such record, is named after its folder."""
    from genoarmory.models.derive import run_names
    from genoarmory.naming import own_name

    run = tmp_path / "tiny-6mer" / "tf_0"
    shutil.copytree(own_model, run / "model")
    (run / "metrics.json").write_text(json.dumps({"config": {"model": {"name": "tiny-6mer", "family": "tiny"}}}))
    assert run_names(compose(["model=tiny-6mer", f"model.path={run / 'model'}"]).model)["name"] == "tiny-6mer"
    assert own_name(run / "model") == "tiny-6mer"  # model=local too (config.py's name for it)
    (run / "metrics.json").write_text(json.dumps({"config": {"model": {"name": "dnabert2", "family": "hf"}}}))
    assert own_name(run / "model") == "tf_0-model"
    (run / "metrics.json").unlink()
    assert run_names(compose(["model=tiny-6mer", f"model.path={run / 'model'}"]).model)["name"] == "tf_0-model"
