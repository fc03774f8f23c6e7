"""model.compile's length buckets, the observer spans, and SDPA loading: what they change and what they must not.
(torch.compile itself runs on CUDA only and is measured in benchmarks/; here the padding it relies on is
checked against the plain model, through an identity compiler.)"""

import itertools
import warnings

import numpy as np
import pytest
import torch
from conftest import compose
from transformers import BertConfig, BertForSequenceClassification, EsmTokenizer

from genoarmory.attacks.engine import run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.data.example import Example
from genoarmory.models.compiled import CompiledForward
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.load import load_classifier
from genoarmory.models.victim import Victim
from genoarmory.observe import Timings
from genoarmory.results import RecordWriter

VOCAB = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>"] + ["".join(p) for p in itertools.product("ACGT", repeat=6)] \
    + list("ACGTN")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bert")
    (folder / "vocab.txt").write_text("\n".join(VOCAB))
    tok = EsmTokenizer(str(folder / "vocab.txt"), model_max_length=64)
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32,
                                                     pad_token_id=tok.pad_token_id, num_labels=2)).eval()
    return model, tok, folder


def random_seqs(rng, n, low, high):
    return ["".join(rng.choice(list("ACGT"), int(rng.integers(low, high)))) for _ in range(n)]


def test_length_buckets_change_no_logit(tiny):
    model, tok, _ = tiny
    enc = SequenceEncoder(tok, "kmer", 64)
    forward = CompiledForward(model, enc, takes_mask=True, bucket=8, compiler=lambda m: m)
    rng = np.random.default_rng(0)
    for low, high in ((6, 40), (30, 31), (1, 7)):
        seqs = random_seqs(rng, 9, low, high)
        batch = enc.encode(seqs, "cpu", drop_full_mask=True)
        with torch.inference_mode():
            want = model(**enc.encode(seqs, "cpu")).logits
            got = forward(**batch)
        assert torch.allclose(got, want, atol=1e-5), (low, high)
    assert forward.buckets and all(b % 8 == 0 for b in forward.buckets)
    assert forward.padded_length(61) == 64 and forward.padded_length(64) == 64
    assert forward.padded_length(70) == 70  # over the maximum: never padded further


def test_a_model_that_does_not_compile_runs_eagerly_with_one_warning(tiny):
    model, tok, _ = tiny

    class Broken(torch.nn.Module):
        def forward(self, **kwargs):
            raise RuntimeError("cannot trace this")

    enc = SequenceEncoder(tok, "kmer", 64)
    forward = CompiledForward(model, enc, takes_mask=True, compiler=lambda m: Broken())
    batch = enc.encode(["ACGTACGTAC", "ACG"], "cpu")
    with pytest.warns(UserWarning, match="torch.compile failed"), torch.inference_mode():
        got = forward(**batch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with torch.inference_mode():
            again = forward(**batch)
    with torch.inference_mode():
        assert torch.equal(got, model(**batch).logits) and torch.equal(again, got)
    assert "cannot trace this" in forward.failed


def test_compile_is_never_used_on_cpu(tiny):
    model, tok, _ = tiny
    assert Victim(model, SequenceEncoder(tok, "kmer", 64), "t", "cpu", compile="auto").compiled is None


def test_spans_count_what_ran(tiny):
    model, tok, _ = tiny
    victim = Victim(model, SequenceEncoder(tok, "kmer", 64), "t", "cpu", 4)
    timings = Timings()
    victim.observer = timings
    seqs = random_seqs(np.random.default_rng(1), 10, 20, 30)
    victim.predict_proba(seqs)
    victim.predict_proba(seqs[:5] + ["ACGTACGTACGTACGTACGT"])  # 5 cached, 1 new
    assert timings.counts["victim.launch"] == 11 and timings.calls["victim.launch"] == 2
    assert victim.queries == 11
    cfg = compose(["attack=random", "attack.query_budget=20"])
    examples = [Example(f"e{i}", s, 0, {}) for i, s in enumerate(seqs[:3])]
    with RecordWriter(tiny[2] / "run") as writer:
        records = run_attack(build_attack(victim, cfg), victim, examples, writer, 0, "test", 2, False)
    assert timings.counts["engine.records"] == len(records) == 3
    assert set(timings.summary()) >= {"victim.launch", "engine.records", "engine.filter"}


def test_builtin_architectures_load_with_sdpa(tiny):
    model, tok, folder = tiny
    out = folder / "saved"
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    loaded, _ = load_classifier(out, 2)
    assert loaded.config._attn_implementation == "sdpa"


def test_model_compile_takes_false_or_auto():
    assert compose(["model.compile=auto"]).model.compile == "auto"
    assert compose([]).model.compile is False
    with pytest.raises(Exception, match="model.compile"):
        compose(["model.compile=yes"])


def test_regional_compile_runs_the_compiled_blocks_and_leaves_the_model_as_it_was(tiny):
    """A large model compiles its repeated layer (models/compiled.py): every layer runs through its compiled
    wrapper in a compiled call, the logits are the eager model's, and the model keeps its own layers."""
    from genoarmory.models.compiled import repeated_blocks

    model, tok, _ = tiny
    enc = SequenceEncoder(tok, "kmer", 64)
    calls = []

    class Counting(torch.nn.Module):  # stands in for torch.compile's wrapper
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args, **kwargs):
            calls.append(type(self.inner).__name__)
            return self.inner(*args, **kwargs)

    layers = repeated_blocks(model)
    assert layers is model.bert.encoder.layer
    before = list(layers)
    forward = CompiledForward(model, enc, takes_mask=True, compiler=Counting, regional=True)
    seqs = random_seqs(np.random.default_rng(1), 7, 10, 40)
    with torch.no_grad():
        got = forward(**enc.encode(seqs, "cpu", drop_full_mask=True))
        want = model(**enc.encode(seqs, "cpu")).logits
    assert torch.allclose(got, want, atol=1e-5)
    assert calls == [type(before[0]).__name__] * len(before)
    assert list(model.bert.encoder.layer) == before  # restored: float32 passes and gradients run the eager layers
    small = CompiledForward(model, enc, takes_mask=True, compiler=lambda m: m)  # by size: a tiny model compiles whole
    assert small.blocks is None
