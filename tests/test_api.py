"""The Python API runs the CLI's path: same records for the same model and examples, honest success
(the task's label check), typed records, run folders the commands read."""

from __future__ import annotations

import json

import pytest
import torch

import genoarmory as ga
from genoarmory.errors import UserError
from conftest import run_cli

LIMIT = 4


@pytest.fixture(scope="module")
def embedded():
    folder = ga.embedded_model("tiny-6mer")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder / "model")
    return folder, model, AutoTokenizer.from_pretrained(folder / "model")


@pytest.fixture(scope="module")
def cli_records(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    assert run_cli("attack", f"dataset.limit={LIMIT}", f"run_dir={out}", "progress=false") == 0
    return [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]


def outcome(record: dict) -> tuple:
    return record["id"], record["status"], record["adv_sequence"], record["queries"], [list(e) for e in record["edits"]]


def test_import_is_light():
    import subprocess
    import sys

    code = "import genoarmory, sys; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_in_memory_model_gives_the_cli_records(embedded, cli_records):
    folder, model, tokenizer = embedded
    victim = ga.Victim.wrap(model, tokenizer, name="mine", mlm=folder / "mlm")
    result = ga.attack(victim, task=ga.load_task("motif/tata"), limit=LIMIT)
    assert [outcome(r.to_json()) for r in result.records] == [outcome(r) for r in cli_records]
    assert result.summary["model"]["name"] == "mine" and result.summary["label_check"]["enforced"]
    assert result.summary["valid_asr"] is not None and "valid_asr=" in repr(result)


class PlainClassifier(torch.nn.Module):
    """Not a Hugging Face model: ids -> logits tensor, through the embedded model's weights."""

    def __init__(self, hf):
        super().__init__()
        self.hf = hf

    def forward(self, input_ids, attention_mask=None):
        return self.hf(input_ids=input_ids, attention_mask=attention_mask).logits


def test_any_module_is_wrapped_by_the_same_adapter(embedded, cli_records):
    folder, model, tokenizer = embedded
    victim = ga.Victim.wrap(PlainClassifier(model), tokenizer, mlm=folder / "mlm")
    result = ga.attack(victim, task=ga.load_task("motif/tata"), limit=LIMIT)
    assert [outcome(r.to_json()) for r in result.records] == [outcome(r) for r in cli_records]


def test_own_sequences_have_no_oracle_and_say_so(embedded, tmp_path):
    folder, model, tokenizer = embedded
    task = ga.load_task("motif/tata")
    examples = task.split("test")[:3]
    victim = ga.Victim.wrap(model, tokenizer, mlm=folder / "mlm")
    result = ga.attack(victim, [e.sequence for e in examples], [e.label for e in examples],
                       attack="bert-attack", max_perturb_ratio=0.05)
    assert result.summary["valid_asr"] is None and result.summary["label_check"]["verifiable"] is False
    assert result.summary["attack"]["max_perturb_ratio"] == 0.05 and result.summary["dataset"]["name"] == "sequences"
    assert "n/a" in repr(result)
    frame = result.to_pandas()
    assert list(frame["label"]) == [e.label for e in examples] and len(frame) == 3
    run = result.save(tmp_path / "run")
    assert run_cli("read", str(run), "--format", "json") == 0
    table = ga.read(run)
    assert table.loc[0, "model"] == "in-memory"
    assert any(p.name == "stats.json" for p in ga.visualize(run))
    with pytest.raises(UserError, match="already holds a run"):
        ga.attack(victim, ["ACGT" * 10], [0], attack="random").save(run)


def test_threat_keys_are_checked(embedded):
    folder, model, tokenizer = embedded
    victim = ga.Victim.wrap(model, tokenizer)
    with pytest.raises(UserError, match="attack.bogus: unknown key"):
        ga.attack(victim, ["ACGT" * 10], [0], attack="random", bogus=1)
    with pytest.raises(UserError, match="max_perturb_ratio"):
        ga.attack(victim, ["ACGT" * 10], [0], attack="random", max_perturb_ratio=2.0)
    with pytest.raises(UserError, match="needs a masked LM.*attack.mlm="):
        ga.attack(victim, ["ACGT" * 10], [0], attack="bertattack")


def test_from_pretrained_folder_is_named_after_it(embedded, tmp_path):
    folder, model, tokenizer = embedded
    own = tmp_path / "my-promoter-model"
    model.save_pretrained(own)
    tokenizer.save_pretrained(own)
    victim = ga.Victim.from_pretrained(own)
    result = ga.attack(victim, task=ga.load_task("motif/tata"), limit=2, attack="random")
    model_info = result.summary["model"]
    assert model_info["name"] == "my-promoter-model" and model_info["model_type"] == "bert"
    assert model_info["tokenization"] == "kmer"
    with pytest.raises(UserError, match="did you mean dnabert2"):
        ga.Victim.from_pretrained("dnabert")
    with pytest.raises(UserError, match="no such folder"):
        ga.Victim.from_pretrained(tmp_path / "missing" / "model")
    assert ga.Victim.from_pretrained("zhihan1996/DNABERT-2-117M").groups == ["model=dnabert2"]  # its config
    assert ga.Victim.from_pretrained("org/other").settings["model.hub_id"] == "org/other"  # model=local


def test_a_plain_module_runs_textfooler_through_its_encoder_and_says_what_pgd_needs(embedded):
    folder, model, tokenizer = embedded
    task = ga.load_task("motif/tata")
    hf = ga.attack(ga.Victim.wrap(model, tokenizer), task=task, limit=2, attack="textfooler")
    plain = ga.attack(ga.Victim.wrap(PlainClassifier(model), tokenizer), task=task, limit=2, attack="textfooler")
    assert [outcome(r.to_json()) for r in plain.records] == [outcome(r.to_json()) for r in hf.records]
    with pytest.raises(UserError, match="takes no inputs_embeds"):
        ga.attack(ga.Victim.wrap(PlainClassifier(model), tokenizer), task=task, limit=1, attack="pgd")
