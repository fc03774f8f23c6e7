"""What the CUDA paths change, checked on CPU: successes confirmed in float32 when queries run in reduced
precision, the similarity filter answered for many searches at once, the masked LM run for many examples at
once, and `parallel: auto`. (Their speed is measured in benchmarks/gpu_attack.py, never here.)"""

import copy
import dataclasses
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import compose, embedded_default

from genoarmory.attacks import engine, search
from genoarmory.attacks.engine import SelfCheckError, resolve_parallel, run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.attacks.search import FilterRequest
from genoarmory.attacks.similarity import EncoderSimilarity
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.tiny_tokenizers import build_tiny_tokenizer
from genoarmory.models.victim import Victim
from genoarmory.results import RecordWriter
from genoarmory.sequence import apply_edits


@pytest.fixture(scope="module")
def setup():
    cfg, _, victim, examples = embedded_default(12)
    return cfg, victim, examples


class RoundingVictim(Victim):
    """Stands in for bf16 on CUDA at its worst: its ordinary queries read one edited sequence in three as the
    other class (a flip only rounding made), its `exact` passes are the model's own float32 answer."""

    @property
    def reduced_precision(self):
        return True

    def logits(self, sequences, exact=False):
        out = super().logits(sequences, exact)
        if not exact:
            flip = torch.tensor([s not in self.originals and zlib.crc32(s.encode()) % 3 == 0 for s in sequences])
            out = torch.where(flip[:, None], out.flip(-1), out)
        return out


def rounding_victim(victim, examples):
    v = RoundingVictim(victim.model, victim.encoder, victim.name, "cpu", info=victim.info)
    v.originals = {e.sequence for e in examples}
    return v


def attack_records(tmp_path, spec, victim, examples, name):
    victim.clear_cache()
    with RecordWriter(tmp_path / name) as writer:
        return [r.to_json() for r in run_attack(spec, victim, examples, writer, 0, "t", 4, False)]


def test_successes_are_decided_in_float32_under_reduced_precision(tmp_path, setup, monkeypatch):
    cfg, victim, examples = setup
    v = rounding_victim(victim, examples)
    spec = build_attack(v, compose(["dataset.limit=12", "attack=bertattack"]))
    records = attack_records(tmp_path, spec, v, examples, "confirmed")
    wins = [r for r in records if r["status"] == "success"]
    assert wins
    exact = victim.predict_proba([r["adv_sequence"] for r in wins], use_cache=False)
    assert all(int(p.argmax()) != r["label"] for r, p in zip(wins, exact))  # every success holds in float32
    for r, p in zip(wins, exact):
        np.testing.assert_allclose(r["adv_probs"], p, atol=1e-5)  # and records the float32 probabilities
        assert apply_edits(r["sequence"], [tuple(e) for e in r["edits"]]) == r["adv_sequence"]
    # the nudge is real: deciding on the nudged scores alone records successes float32 refutes
    monkeypatch.setattr(search, "decided_probs", _plain)
    with pytest.raises(SelfCheckError, match="no longer fools"):
        attack_records(tmp_path, spec, v, examples, "unconfirmed")


def _plain(victim, sequence, probs):
    return probs
    yield  # a generator that asks for nothing


def test_the_exact_pass_bypasses_the_cache(setup):
    _, victim, examples = setup
    v = rounding_victim(victim, examples)
    edited = [e.sequence[:-1] + b for e in examples for b in "ACGT" if b != e.sequence[-1]]
    seqs = [s for s in edited if zlib.crc32(s.encode()) % 3 == 0][:4]  # sequences the stand-in reads flipped
    nudged = v.predict_proba(seqs)
    exact = v.predict_proba(seqs, exact=True)
    np.testing.assert_allclose(exact, victim.predict_proba(seqs, use_cache=False), atol=1e-6)
    assert not np.allclose(nudged, exact, atol=1e-3)
    np.testing.assert_array_equal(v.predict_proba(seqs), nudged)  # the cache still holds the ordinary answer


def test_similarity_many_equals_one_request_at_a_time_and_ignores_padding():
    torch.manual_seed(0)
    from transformers import BertConfig, BertForSequenceClassification

    tok = build_tiny_tokenizer("bpe")
    model = BertForSequenceClassification(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                                                     num_attention_heads=2, intermediate_size=64,
                                                     pad_token_id=tok.pad_token_id))
    victim = Victim(model, SequenceEncoder(tok, "bpe", 512), "bpe", "cpu", batch_size=7)
    rng = np.random.default_rng(0)
    requests = []
    for n in (60, 90, 75):  # different lengths: BPE candidates of different token counts share batches
        original = "".join(rng.choice(list("ACGT"), n))
        edit_lists = []
        for _ in range(9):
            pos = sorted(rng.choice(n, size=3, replace=False))
            edit_lists.append([(int(p), original[p], "ACGT"[("ACGT".index(original[p]) + 1) % 4]) for p in pos])
        cands = [apply_edits(original, e) for e in edit_lists]
        requests.append(FilterRequest(None, original, cands, edit_lists))
    mixed = 0
    for threshold in (0.999, 0.99, 0.95, 0.9):
        together_masks = EncoderSimilarity(victim, 5, threshold).many(requests)
        for r, mask in zip(requests, together_masks):
            alone = EncoderSimilarity(victim, 5, threshold)
            one_by_one = np.concatenate([alone(r.original, [c], [e]) for c, e in zip(r.candidates, r.edit_lists)])
            np.testing.assert_array_equal(mask, one_by_one)
        kept = np.concatenate(together_masks)
        mixed += 0 < kept.sum() < len(kept)
    assert mixed  # some threshold really separates candidates here


def test_textfooler_records_do_not_depend_on_how_filter_requests_are_grouped(tmp_path, setup):
    cfg, victim, examples = setup
    spec = build_attack(victim, compose(["dataset.limit=12", "attack=textfooler"]))
    alone = dataclasses.replace(spec, candidate_filter=lambda o, c, e: EncoderSimilarity.__call__(
        spec.candidate_filter, o, c, e))  # a plain callable: the engine asks it request by request
    out = [[{k: v for k, v in r.items() if k != "seconds"} for r in attack_records(tmp_path, s, victim, examples, n)]
           for s, n in ((spec, "many"), (alone, "alone"))]
    assert out[0] == out[1]


class ReducedVictim(Victim):
    """The embedded default's victim, claiming bf16 queries (as on CUDA) so the filter's query pass runs."""

    @property
    def reduced_precision(self):
        return True


def test_filter_pass_scores_the_candidates_it_keeps(tmp_path, setup):
    """On a reduced-precision victim TextFooler's filter gets states and probabilities from one query pass:
    the same masks as the encoder's own pass; the kept candidates' probabilities equal a fresh query's, are
    counted as queries only when asked for, and cost no second pass; the model carries no hook afterwards.
    Over a whole attack: the same outcomes and query counts as two passes, in fewer forward passes."""
    cfg, victim, examples = setup
    v = ReducedVictim(victim.model, victim.encoder, victim.name, "cpu", info=victim.info)
    rng = np.random.default_rng(3)
    requests = []
    for e in examples[:4]:
        edit_lists = [[(int(p), e.sequence[p], "ACGT"[("ACGT".index(e.sequence[p]) + 1) % 4])]
                      for p in rng.choice(len(e.sequence), 12, replace=False)]
        requests.append(FilterRequest(None, e.sequence, [apply_edits(e.sequence, x) for x in edit_lists], edit_lists))
    fused, plain = EncoderSimilarity(v, 5, 0.99), EncoderSimilarity(v, 5, 0.99)
    plain.scores_kept = False
    assert fused.scores_kept
    masks = fused.many(requests)
    for a, b in zip(masks, plain.many(requests)):
        np.testing.assert_array_equal(a, b)
    kept = [c for r, m in zip(requests, masks) for c, ok in zip(r.candidates, m) if ok]
    assert 0 < len(kept) < sum(len(r.candidates) for r in requests) and list(v._ahead) == kept
    assert not any(m._forward_hooks for m in v.model.modules()) and v._filter_model is not v.model
    queries, passes = v.queries, v.forward_batches
    got = v.predict_proba(kept + kept[:1])
    assert (v.queries, v.forward_batches) == (queries + len(kept), passes) and not v._ahead
    np.testing.assert_allclose(got[:-1], victim.predict_proba(kept, use_cache=False), atol=1e-5, rtol=0)
    assert v.predict_proba(kept[:1]) is not None and v.queries == queries + len(kept)  # cached now, not recounted

    spec = build_attack(v, compose(["dataset.limit=12", "attack=textfooler"]))
    encoded, encode = [], v.encoder.encode  # every pass, the filter's and the queries', encodes its batch
    v.encoder = dataclasses.replace(v.encoder) if dataclasses.is_dataclass(v.encoder) else copy.copy(v.encoder)
    v.encoder.encode = lambda seqs, *a, **k: (encoded.append(len(seqs)), encode(seqs, *a, **k))[1]
    runs = []
    for scores_kept in (True, False):
        spec.candidate_filter.scores_kept = scores_kept
        v.queries = 0
        encoded.clear()
        records = attack_records(tmp_path, spec, v, examples, f"kept{scores_kept}")
        runs.append(([(r["id"], r["status"], r["edits"], r["queries"]) for r in records], v.queries, sum(encoded)))
    assert runs[0][:2] == runs[1][:2] and any(r[1] == "success" for r in runs[0][0])
    assert runs[0][2] < 0.8 * runs[1][2], (runs[0][2], runs[1][2])  # sequences through the model


def test_batched_masked_lm_gives_the_same_tables(setup):
    cfg, victim, examples = setup
    spec = build_attack(victim, compose(["dataset.limit=12", "attack=bertattack"]))
    mlm = spec.transformation
    seqs = [e.sequence for e in examples]
    single = [mlm.prepare(s, None) for s in seqs]
    mlm.batched, mlm.chunk = True, 5
    try:
        mlm.prepare_many(seqs)
        assert len(mlm._ready) == len(set(seqs))
        batched = [mlm.prepare(s, None) for s in seqs]
    finally:
        mlm.batched = False
    assert not mlm._ready
    for a, b in zip(single, batched):
        assert a.spans == b.spans and a.replacements == b.replacements


def test_parallel_auto_is_512_on_cuda_and_32_elsewhere(setup):
    _, victim, _ = setup
    assert resolve_parallel("auto", victim) == 32
    assert resolve_parallel(None, SimpleNamespace(device=torch.device("cuda"))) == 512
    assert resolve_parallel("7", victim) == 7
    assert engine.lane_sizes(128, SimpleNamespace(device=torch.device("cuda"))) == [64, 64]


def test_holding_confirmations_back_changes_no_record(tmp_path, setup, monkeypatch):
    """Confirmations wait for company (engine.CONFIRM_BATCH / CONFIRM_WAIT); examples never see each other,
    so sending each at once gives the same records; confirmed successes need no second float32 pass."""
    cfg, victim, examples = setup
    v = rounding_victim(victim, examples)
    spec = build_attack(v, compose(["dataset.limit=12", "attack=bertattack"]))
    exact_passes = []
    submit = v.submit
    v.submit = lambda seqs, use_cache=True, exact=False: (exact_passes.append(exact), submit(seqs, use_cache, exact))[1]
    v.predict_proba = None  # the self-check must not re-score a confirmed success (TypeError if it tries)
    out = []
    for batch, wait in ((engine.CONFIRM_BATCH, engine.CONFIRM_WAIT), (1, 0)):
        monkeypatch.setattr(engine, "CONFIRM_BATCH", batch)
        monkeypatch.setattr(engine, "CONFIRM_WAIT", wait)
        exact_passes.clear()
        records = attack_records(tmp_path, spec, v, examples, f"b{batch}")
        out.append([{k: x for k, x in r.items() if k != "seconds"} for r in records])
        out[-1].append(sum(exact_passes))
    assert out[0][:-1] == out[1][:-1]
    wins = sum(r["status"] == "success" for r in out[0][:-1])
    assert wins and out[1][-1] > wins  # rounding-only flips were confirmed (and refuted) too
    assert out[0][-1] < out[1][-1]  # fewer float32 passes when confirmations wait for each other


def reference_table(mlm, original, top):
    """BERT-Attack's rule, written plainly: per token, the first k ranked DNA tokens of its width that differ
    from the original there."""
    spans, reps = [], []
    for t, span in enumerate(mlm.encoder.token_spans(original)):
        if span is None:
            continue
        options = []
        for tid in top[t]:
            text = mlm._text[tid]
            if text and len(text) == span[1] - span[0] and text != original[span[0]:span[1]] and len(options) < mlm.k:
                options.append(text)
        spans.append(span)
        reps.append(options)
    return spans, reps


@pytest.mark.parametrize("kind", ["kmer6", "char", "bpe"])
def test_vectorised_mlm_tables_follow_the_plain_rule(kind):
    from genoarmory.attacks.transformations import MLMProposals

    tok = build_tiny_tokenizer(kind)
    encoder = SequenceEncoder(tok, {"kmer6": "kmer"}.get(kind, kind), 512)
    mlm = MLMProposals(torch.nn.Linear(1, 1), encoder, 5, "cpu")
    rng = np.random.default_rng(0)
    for _ in range(30):
        original = "".join(rng.choice(list("ACGT"), int(rng.integers(6, 80))))
        ids = encoder.encode([original])["input_ids"][0].numpy()
        top = rng.integers(0, len(tok), size=(len(ids), int(rng.integers(1, 40))))
        top[:, 0] = ids  # the original token ranked first: it must be skipped
        table = mlm._table(original, top)
        assert (table.spans, table.replacements) == reference_table(mlm, original, top)
