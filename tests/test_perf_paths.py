"""The speed paths give exactly what the plain paths give: vectorised k-mer tokenisation of sequences with
N and of mixed lengths, the Rust-backend BPE path, `Victim.submit`, the engine's two lanes, and the search's
string substitution. (Speed itself is measured in benchmarks/, never here.)"""

import dataclasses
import itertools
import random

import numpy as np
import pytest
import torch
from conftest import compose, embedded_default
from transformers import AutoTokenizer, EsmTokenizer

from genoarmory.attacks.engine import run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.attacks.search import substitute
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.tiny_tokenizers import build_tiny_tokenizer
from genoarmory.results import RecordWriter
from genoarmory.sequence import apply_edits

KMERS = ["".join(p) for p in itertools.product("ACGT", repeat=6)]


def random_batch(rng, fixed_length=None, n_prob=0.4):
    seqs = []
    for _ in range(int(rng.integers(1, 16))):
        length = fixed_length or int(rng.integers(1, 90))
        s = "".join(rng.choice(list("ACGT"), length))
        if rng.random() < n_prob:  # an importance probe: a stretch masked with N
            a = int(rng.integers(0, length))
            b = min(length, a + int(rng.integers(1, 7)))
            s = s[:a] + "N" * (b - a) + s[b:]
        seqs.append(s)
    return seqs


def assert_same_as_tokenizer(enc, trials=25, seed=0):
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        seqs = random_batch(rng, 48 if trial % 2 else None)
        got = enc.encode(seqs)
        want = enc.tokenizer([enc._text(s) for s in seqs], padding=True, truncation=True, max_length=enc.max_length,
                             return_tensors="pt", return_token_type_ids=False)
        assert torch.equal(got["input_ids"], want["input_ids"]), seqs
        assert torch.equal(got["attention_mask"], want["attention_mask"]), seqs


def test_kmer_lookup_handles_n_and_mixed_lengths_like_the_tokenizer(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
                                                  + KMERS + list("ATCGN")))
    enc = SequenceEncoder(EsmTokenizer(str(tmp_path / "vocab.txt")), "kmer", 512)  # Nucleotide Transformer's rule
    assert enc._lookup is not None and enc._lookup.greedy_n
    assert_same_as_tokenizer(enc)
    for kind, tokenization in (("kmer6", "kmer"), ("char", "char")):
        assert_same_as_tokenizer(SequenceEncoder(build_tiny_tokenizer(kind), tokenization, 512))


def test_bpe_backend_path_equals_the_wrapper(shared_dir):
    for tok, max_length in ((build_tiny_tokenizer("bpe"), 512),
                            (AutoTokenizer.from_pretrained(shared_dir / "fixtures/hf/dnabert2-117m-config"), 512),
                            (AutoTokenizer.from_pretrained(shared_dir / "fixtures/hf/dnabert2-117m-config"), 9)):
        enc = SequenceEncoder(tok, "bpe", max_length)
        assert enc._backend is not None  # the fast path is really in use
        assert_same_as_tokenizer(enc)
        enc.encode(["ACGT" * 40])  # the wrapper's own state is not what the backend copy uses
        assert_same_as_tokenizer(enc, trials=5, seed=1)


@pytest.fixture(scope="module")
def setup():
    cfg, _, victim, examples = embedded_default(10)
    return cfg, victim, examples


def test_submit_equals_predict_proba(setup):
    _, victim, examples = setup
    seqs = [e.sequence for e in examples]
    seqs = seqs + seqs[:3] + [s[:-1] + "N" for s in seqs[:2]]  # duplicates and N
    victim.clear_cache()
    plain = victim.predict_proba(seqs, use_cache=False)
    assert victim._cache == {}
    pending = victim.submit(seqs)
    np.testing.assert_allclose(pending.result(), plain, atol=1e-6)
    assert pending.result() is pending.result()
    assert set(victim._cache) == set(seqs)
    before = victim.queries
    np.testing.assert_allclose(victim.predict_proba(seqs[::-1]), plain[::-1], atol=1e-6)
    assert victim.queries == before  # all cached


@pytest.mark.parametrize("attack", ["bertattack", "random"])
def test_two_lanes_change_no_record(tmp_path, setup, attack):
    cfg, victim, examples = setup
    cfg = compose(["dataset.limit=10", f"attack={attack}"])
    out = []
    for lanes in (1, 2):
        victim.clear_cache()
        with RecordWriter(tmp_path / str(lanes)) as writer:
            records = run_attack(build_attack(victim, cfg), victim, examples, writer, 0, "t", 6, False, lanes=lanes)
        out.append([{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records])
    assert out[0] == out[1]


@pytest.mark.parametrize("attack", ["textfooler", "random"])
def test_launcher_thread_changes_no_record(tmp_path, setup, attack):
    """CUDA victims tokenise and launch on a thread of their own (models/victim.py); forced on here, on CPU,
    it gives the records of launching on the caller's thread, with two lanes and TextFooler's filter running
    the model on the caller's thread meanwhile; the work really ran on the launcher thread, and an error
    there reaches the caller."""
    import threading

    from genoarmory.observe import Timings

    cfg, victim, examples = setup
    cfg = compose(["dataset.limit=10", f"attack={attack}"])
    out, launched_on = [], set()
    launch = type(victim)._launch

    def recording(self, *args, **kwargs):
        launched_on.add(threading.current_thread().name)
        return launch(self, *args, **kwargs)

    try:
        type(victim)._launch = recording
        for threaded in (False, True):
            victim.clear_cache()
            victim.launch_thread = threaded
            victim.observer = Timings()
            with RecordWriter(tmp_path / str(threaded)) as writer:
                records = run_attack(build_attack(victim, cfg), victim, examples, writer, 0, "t", 6, False, lanes=2)
            out.append([{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records])
            spans = set(victim.observer.seconds)
            assert ("launcher.launch" in spans) == threaded
        assert out[0] == out[1]
        assert any(name.startswith("genoarmory-launch") for name in launched_on)
        with pytest.raises(ValueError, match="boom"):
            type(victim)._launch = lambda self, *a, **k: (_ for _ in ()).throw(ValueError("boom"))
            victim.predict_proba(["ACGT" * 20], use_cache=False)
    finally:
        type(victim)._launch = launch
        victim.launch_thread, victim.observer = False, None


def test_substitute_equals_apply_edits():
    r = random.Random(0)
    for _ in range(5000):
        s = "".join(r.choice("ACGT") for _ in range(r.randint(1, 40)))
        edits = [(p, s[p] if r.random() > 0.05 else "N", r.choice("ACGT"))
                 for p in (r.randrange(len(s)) for _ in range(r.randint(0, 5)))]
        try:
            want = apply_edits(s, edits)
        except ValueError as err:
            with pytest.raises(ValueError, match=str(err)):
                substitute(s, edits)
            continue
        assert substitute(s, edits) == want


def test_prepare_many_hook_sets_up_upcoming_examples_and_changes_no_record(tmp_path, setup):
    """The engine hands a transformation with `prepare_many` the sequences about to start, in order."""
    _, victim, examples = setup
    cfg = compose(["dataset.limit=10", "attack=bertattack"])
    spec = build_attack(victim, cfg)
    calls, ready = [], {}

    class Ahead(type(spec.transformation)):
        def prepare_many(self, originals):
            calls.append(list(originals))
            ready.update({s: super(Ahead, self).prepare(s, None) for s in originals})

        def prepare(self, original, rng):
            return ready.pop(original)  # KeyError if the engine did not prepare it ahead

    ahead = Ahead.__new__(Ahead)
    ahead.__dict__.update(spec.transformation.__dict__)
    out = []
    for s in (spec, dataclasses.replace(spec, transformation=ahead)):
        victim.clear_cache()
        with RecordWriter(tmp_path / str(len(out))) as writer:
            records = run_attack(s, victim, examples, writer, 0, "t", 4, False, lanes=2)
        out.append([{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records])
    assert out[0] == out[1]
    assert [s for c in calls for s in c] == [e.sequence for e in examples] and len(calls) < len(examples)


def test_attention_backends_hold_while_any_thread_is_inside():
    """sdpa_kernel's flags are process-wide: with two threads inside, the first one leaving must not give
    cuDNN back to the other (models/victim.py, shared_attention_backends); the last one leaving restores them
    (plain nested sdpa_kernel would leave cuDNN on under this thread, then off for good)."""
    import threading

    from genoarmory.models.victim import CudaInference, shared_attention_backends

    cudnn = torch.backends.cuda.cudnn_sdp_enabled
    assert cudnn()
    entered, leave = threading.Event(), threading.Event()

    def other():  # enters first, leaves first
        with shared_attention_backends(CudaInference.BACKENDS):
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    with shared_attention_backends(CudaInference.BACKENDS):
        leave.set()
        thread.join(10)
        assert not cudnn()  # the other thread has left; this one is still inside
    assert cudnn()
