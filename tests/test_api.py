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


def kmer_tokenizer(hf_tokenizer, k: int = 6):
    """A plain callable, not a Hugging Face tokenizer: 6-mers left to right, a single base where no 6-mer
    fits (the tail, or a stretch holding N), between [CLS] and [SEP], as lists of ids."""
    vocab = hf_tokenizer.get_vocab()
    cls, sep = hf_tokenizer.cls_token_id, hf_tokenizer.sep_token_id

    def tokenize(sequences):
        rows = []
        for seq in sequences:
            ids, p = [cls], 0
            while p < len(seq):
                step = k if p + k <= len(seq) and seq[p:p + k] in vocab else 1
                ids.append(vocab[seq[p:p + step]])
                p += step
            rows.append(ids + [sep])
        return rows
    return tokenize


@pytest.mark.parametrize("attack", ["bertattack", "random"])
def test_a_plain_module_with_a_tokenizer_callable_gives_the_hf_records(embedded, cli_records, attack):
    """spans measured base by base from a callable equal the HF tokenizer's offsets, so the attack's
    records are the ones the CLI gets from the HF model and tokenizer (bertattack) or the HF wrap (random)."""
    folder, model, tokenizer = embedded
    task = ga.load_task("motif/tata")
    victim = ga.Victim.wrap(PlainClassifier(model), kmer_tokenizer(tokenizer), mlm=folder / "mlm")
    assert victim.settings["model.tokenization"] == "kmer" and victim._engine.encoder.k == 6
    seq = task.split("test")[0].sequence + "ACG"  # a 3-base tail of single tokens
    assert victim._engine.encoder.token_spans(seq) == victim_spans(tokenizer, seq)
    result = ga.attack(victim, task=task, limit=LIMIT, attack=attack)
    if attack == "bertattack":
        expected = [outcome(r) for r in cli_records]
    else:
        hf = ga.attack(ga.Victim.wrap(model, tokenizer), task=task, limit=LIMIT, attack="random")
        expected = [outcome(r.to_json()) for r in hf.records]
    assert [outcome(r.to_json()) for r in result.records] == expected
    assert any(r.status.value == "success" for r in result.records)


def victim_spans(tokenizer, seq):
    from genoarmory.models.encoding import SequenceEncoder

    return SequenceEncoder(tokenizer, "kmer", 512).token_spans(seq)


def test_tokenizer_callables_answer_in_any_shape_and_what_cannot_be_measured_is_refused(embedded):
    from genoarmory.models.callable_encoder import CallableEncoder

    folder, model, tokenizer = embedded
    lists = kmer_tokenizer(tokenizer)
    def padded(seqs):  # a mapping of tensors, right-padded, with its mask
        rows = lists(seqs)
        width = max(map(len, rows))
        return {"input_ids": torch.tensor([r + [0] * (width - len(r)) for r in rows]),
                "attention_mask": torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])}
    seqs = ["ACGTACGTACGTAC", "ACGTACG"]
    a, b = CallableEncoder(lists), CallableEncoder(padded)
    assert a.token_spans(seqs[0]) == b.token_spans(seqs[0]) == [None, (0, 6), (6, 12), (12, 13), (13, 14), None]
    assert all(torch.equal(a.encode(seqs)[key], b.encode(seqs)[key]) for key in ("input_ids", "attention_mask"))
    assert CallableEncoder(lambda seqs: [[5] + [ord(c) for c in s] for s in seqs]).tokenization == "char"
    trimer = lambda t: sum("ACGTN".index(c) * 5 ** j for j, c in enumerate(t))  # one id per 3-mer
    overlapping = CallableEncoder(lambda seqs: [[trimer(s[i:i + 3]) for i in range(len(s) - 2)] for s in seqs])
    assert overlapping.tokenization == "overlapping_kmer" and overlapping.token_spans("ACGTA") == [(0, 3), (1, 4), (2, 5)]
    with pytest.raises(UserError, match="tokens are kmer"):
        CallableEncoder(lists, tokenization="char")
    bpe_like = lambda seqs: [[len(part) for part in s.split("A")] for s in seqs]  # token count follows the bases
    with pytest.raises(UserError, match="different number of tokens when one base changes"):
        ga.Victim.wrap(PlainClassifier(model), bpe_like)
    victim = ga.Victim.wrap(PlainClassifier(model), lists)
    with pytest.raises(UserError, match="tokenizer's vocabulary"):
        ga.attack(victim, task=ga.load_task("motif/tata"), limit=1, attack="textfooler")
