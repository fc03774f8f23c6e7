"""`defend` end to end on the quick tiny model: AT (with regeneration), FreeLB and ADFAR reusing the
undefended run, resume, and refusals. Small settings: mechanics, not robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

SMALL = ["dataset.limit=6", "defense.max_clean=64", "defense.train.epochs=1", "progress=false", "device=cpu"]
ATTACKED = {"at": ["defense.n_adversarial=12"], "adfar": ["defense.n_adversarial=12"], "freelb": []}


def read(path: Path):
    return json.loads(path.read_text())


def record_ids(run: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (run / "records.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def at_run(quick_tiny_model, tmp_path_factory) -> tuple[Path, list[str]]:
    run = tmp_path_factory.mktemp("defend-at")
    args = ["defend", "defense=at", f"model.path={quick_tiny_model / 'model'}", f"run_dir={run}", *SMALL,
            *ATTACKED["at"], "defense.train.epochs=2", "defense.regenerate_every=1"]
    assert run_cli(*args) == 0
    return run, args


def test_at_trains_saves_and_reattacks_the_same_examples(at_run, quick_tiny_model):
    run, _ = at_run
    summary = read(run / "summary.json")
    assert summary["dsr"] == pytest.approx(1 - summary["asr"])
    assert summary["change"]["asr"] == pytest.approx(summary["asr"] - summary["undefended"]["asr"])
    assert summary["undefended"]["run_dir"] == str(run / "undefended")
    assert record_ids(run) == record_ids(run / "undefended") and len(record_ids(run)) == 6
    assert summary["model"]["path"] == str((run / "model").resolve())
    assert summary["model"]["defended_from"] == str((quick_tiny_model / "model").resolve())
    assert summary["defense"]["name"] == "at" and read(run / "undefended" / "summary.json")["defense"]["name"] == "none"
    assert (run / "model" / "model.safetensors").is_file() and (run / "mlm" / "model.safetensors").is_file()
    rounds = summary["defense"]["training"]["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]  # regenerated against the model after epoch 1
    for r in rounds:
        generated = [json.loads(x) for x in (run / "at-train" / f"round-{r['round']}" / "records.jsonl").read_text().splitlines()]
        assert len(generated) == 12 and sum(g["status"] == "success" for g in generated) == r["adversarial"]


def test_rerun_reuses_the_defended_model(at_run):
    run, args = at_run
    weights = run / "model" / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert run_cli(*args) == 0
    assert weights.stat().st_mtime_ns == before
    assert run_cli(*args[:-1], "defense.regenerate_every=2") == 2  # other settings: refused, not mixed


@pytest.mark.parametrize("defense", ["freelb", "adfar"])
def test_defense_reusing_the_undefended_run(defense, at_run, quick_tiny_model, tmp_path):
    baseline = at_run[0] / "undefended"
    assert run_cli("defend", f"defense={defense}", f"model.path={quick_tiny_model / 'model'}", f"run_dir={tmp_path}",
                   f"defense.baseline_run={baseline}", *SMALL, *ATTACKED[defense]) == 0
    summary = read(tmp_path / "summary.json")
    assert not (tmp_path / "undefended").exists() and summary["undefended"]["run_dir"] == str(baseline)
    assert summary["undefended"]["asr"] == read(baseline / "summary.json")["asr"]
    assert record_ids(tmp_path) == record_ids(baseline)
    assert summary["defense"]["name"] == defense and summary["dsr"] == pytest.approx(1 - summary["asr"])
    if defense == "adfar":
        from genoarmory.defenses.adfar import AdfarClassifier

        assert (tmp_path / "model" / "adfar_head.safetensors").is_file()
        training = summary["defense"]["training"]
        assert 0 <= training["flagged_clean_dev"] <= 1 and training["tokens_with_synonyms"] > 0
        from conftest import compose

        from genoarmory.data import load_task
        from genoarmory.models.load import load_victim

        cfg = compose([f"model.path={tmp_path / 'model'}", "device=cpu"])
        assert isinstance(load_victim(cfg, load_task(cfg)).model, AdfarClassifier)


def test_refusals(at_run, quick_tiny_model, tmp_path, capsys):
    model = f"model.path={quick_tiny_model / 'model'}"
    assert run_cli("defend", model, f"run_dir={tmp_path}", "dataset.limit=6", "progress=false") == 2  # defense=none
    assert "nothing to train" in capsys.readouterr().err
    baseline = at_run[0] / "undefended"
    assert run_cli("defend", "defense=freelb", model, f"run_dir={tmp_path}", f"defense.baseline_run={baseline}",
                   *SMALL, "dataset.limit=5") == 2
    assert "other settings (differing: dataset)" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()
