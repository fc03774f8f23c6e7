"""PGD on input embeddings: the norm ball, eval mode, which rows move, realisation as DNA, and the CLI run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import run_cli
from test_families import FAMILY_NAMES


def random_victim(kind: str, seed: int = 0, dropout: float = 0.3):
    """An untrained tiny BERT of tokenizer `kind` (char | kmer6 | bpe): gradients without any training."""
    from transformers import BertConfig, BertForSequenceClassification

    from genoarmory.models.encoding import SequenceEncoder
    from genoarmory.models.tiny import TOKENIZATION
    from genoarmory.models.tiny_tokenizers import build_tiny_tokenizer
    from genoarmory.models.victim import Victim

    rng = np.random.default_rng(seed)
    corpus = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(50)]
    tokenizer = build_tiny_tokenizer(kind, corpus, 128, 48)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, type_vocab_size=1, num_labels=2,
                        pad_token_id=tokenizer.pad_token_id, hidden_dropout_prob=dropout,
                        attention_probs_dropout_prob=dropout, initializer_range=0.3)  # outputs that vary
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    return Victim(model, SequenceEncoder(tokenizer, TOKENIZATION[kind], 128), f"random-{kind}", "cpu", 64)


def dna(n: int, seed: int) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


@pytest.mark.parametrize("kind", ["char", "kmer6", "bpe"])
def test_embedding_rows_map_to_the_nucleotides_of_each_token(kind):
    from genoarmory.attacks.embedding_batch import embed_batch

    victim = random_victim(kind)
    seqs = [dna(30, 1), dna(47, 2), dna(41, 3)]  # different lengths: padded batch (bpe, and kmer6 tails)
    batch = embed_batch(victim, seqs, [{0, 1}, set(), set()])
    tokens = victim.encoder.tokenizer.convert_ids_to_tokens
    for i, seq in enumerate(seqs):
        spans = [span for _, span in batch.rows[i]]
        assert spans[0][0] == 0 and spans[-1][1] == len(seq)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous, in order
        assert all(tokens(int(batch.input_ids[i, r])) == seq[a:b] for r, (a, b) in batch.rows[i])
    editable = batch.editable[..., 0]
    touching = [r for r, (a, b) in batch.rows[0] if a < 2]  # tokens covering protected positions 0-1
    assert touching and all(editable[0, r] == 0 for r in touching)
    assert editable.sum() == sum(len(r) for r in batch.rows) - len(touching)  # specials and padding never


def test_l2_and_linf_pgd_stay_in_their_ball_in_eval_mode_and_raise_the_loss():
    from genoarmory.attacks.embedding_batch import embed_batch
    from genoarmory.attacks.pgd import PGDSettings, pgd_delta

    victim = random_victim("bpe")
    victim.model.train()  # PGD must switch dropout off itself
    seqs = [dna(40, 4), dna(33, 5), dna(48, 6)]
    batch = embed_batch(victim, seqs, [set(range(10)), set(), set()])
    labels, signs = torch.tensor([0, 1, 0]), torch.ones(3)
    l2 = PGDSettings("l2", eps=0.5, step=0.1, iters=10)
    delta = pgd_delta(victim, batch, labels, signs, l2, [1, 2, 3])
    assert not victim.model.training
    assert torch.equal(delta, pgd_delta(victim, batch, labels, signs, l2, [1, 2, 3]))  # no dropout noise
    assert (delta.flatten(1).norm(dim=1) <= 0.5 + 1e-5).all() and (delta.flatten(1).norm(dim=1) > 0.1).all()
    assert (delta * (1 - batch.editable)).abs().max() == 0  # specials, padding, protected rows untouched
    with torch.no_grad():
        def loss(d):
            logits = victim.forward_from_embeddings(batch.embeds + d, batch.attention_mask)
            return torch.nn.functional.cross_entropy(logits, labels, reduction="none")
        assert (loss(delta) > loss(torch.zeros_like(delta))).all()
    linf = pgd_delta(victim, batch, labels, signs, PGDSettings("linf", eps=0.05, step=0.01, iters=5, random_start=True),
                     [1, 2, 3])
    assert linf.abs().max() <= 0.05 + 1e-7 and (linf * (1 - batch.editable)).abs().max() == 0


def test_random_start_depends_on_the_example_not_on_its_batch():
    from genoarmory.attacks.embedding_batch import embed_batch
    from genoarmory.attacks.pgd import PGDSettings, _random_start

    victim = random_victim("char")
    s = PGDSettings(random_start=True)
    alone = _random_start(embed_batch(victim, [dna(20, 7)], [set()]), s, [11])
    together = _random_start(embed_batch(victim, [dna(35, 8), dna(20, 7)], [set(), set()]), s, [12, 11])
    assert torch.allclose(alone[0], together[1, :alone.shape[1]]) and together[1, alone.shape[1]:].abs().max() == 0
    assert float(alone[0].norm()) <= 0.5 + 1e-6


def test_realise_projects_to_nearest_tokens_and_keeps_the_budget():
    from genoarmory.attacks.constraints import ThreatModel
    from genoarmory.attacks.realise import DnaVocabulary, realise

    victim = random_victim("bpe")
    vocab = DnaVocabulary(victim.input_embeddings().weight, victim.encoder.tokenizer)
    assert len(vocab.groups) > 1  # BPE tokens of several lengths
    length, (texts, table) = max(vocab.groups.items())
    picked = [3, 0, len(texts) - 1]
    assert vocab.nearest(table[picked] + 1e-4, [length] * 3) == [texts[i] for i in picked]

    original = "AAAAAAAAAACCCCCCCCCCGGGGGGGGGGTTTTTTTTTT"  # 40 nt, budget 10% = 4 edits
    proposals = [((0, 6), "ACGAAA", 5.0),   # 2 edits
                 ((10, 16), "CATTCC", 4.0),  # 3 edits: would make 5 > 4, skipped
                 ((20, 22), "GA", 3.0),      # 1 edit
                 ((30, 33), "ATT", 2.0),     # 1 edit
                 ((34, 35), "G", 1.0)]       # over budget
    edits = realise(original, proposals, ThreatModel(0.1), protected=set())
    assert edits == [(1, "A", "C"), (2, "A", "G"), (21, "G", "A"), (30, "T", "A")]
    assert realise(original, proposals, ThreatModel(0.1), protected={2}) == [  # the first token is protected
        (11, "C", "A"), (12, "C", "T"), (13, "C", "T"), (21, "G", "A")]
    # overlapping k-mers (DNABERT-1): a nucleotide is edited once; a conflicting token is dropped
    overlapping = [((0, 3), "ACA", 2.0), ((1, 4), "GAA", 1.0), ((2, 5), "AAT", 0.5)]
    assert realise(original, overlapping, ThreatModel(0.1), set()) == [(1, "A", "C"), (4, "A", "T")]


def test_pgd_attack_cli_records_both_outcomes(quick_tiny_model, tmp_path):
    from genoarmory.sequence import apply_edits

    run_dir = tmp_path / "pgd"
    assert run_cli("attack", f"model.path={quick_tiny_model / 'model'}", "attack=pgd", "dataset.limit=8",
                   f"run_dir={run_dir}", "progress=false") == 0
    records = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    attacked = [r for r in records if r["status"] != "skipped"]
    assert attacked
    for r in attacked:
        assert r["embedding_status"] in ("success", "failed") and len(r["embedding_probs"]) == 2
        assert r["embedding_delta_norm"] <= 0.5 + 1e-5 and r["gradient_queries"] == 10
        assert (r["embedding_pred"] != r["label"]) == (r["embedding_status"] == "success")
        if r["status"] == "success":  # only realised DNA becomes adv_sequence
            assert apply_edits(r["sequence"], [tuple(e) for e in r["edits"]]) == r["adv_sequence"]
            assert 0 < len(r["edits"]) <= 10 and r["adv_pred"] != r["label"]
    summary = json.loads((run_dir / "summary.json").read_text())
    embedded = sum(r["embedding_status"] == "success" for r in attacked) / len(attacked)
    assert summary["embedding_asr"] == pytest.approx(embedded)
    assert summary["realised_asr"] == summary["asr"] and summary["average_gradient_queries"] == 10


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_pgd_realisation_and_attribution_work_on_every_family(tmp_path, name):
    """Random small models of each real architecture and tokenization (tests/test_families.py)."""
    from test_families import SEQS, family_victim

    from genoarmory.attacks.attribution import AttributionItem, NucleotideAttribution
    from genoarmory.attacks.constraints import ThreatModel
    from genoarmory.attacks.pgd import PGDSettings
    from genoarmory.attacks.recipes.pgd import PGDItem, PGDRealiser
    from genoarmory.sequence import apply_edits

    victim, _ = family_victim(tmp_path, name)
    seqs = SEQS[1:4]  # 40, 57, 64 nt: several token counts, batched without padding
    items = [PGDItem(s, 0, 1.0, set(), seed) for seed, s in enumerate(seqs)]
    # a radius far beyond the paper's, so that rows do cross to other tokens and realisation is exercised
    realiser = PGDRealiser(victim, PGDSettings("l2", eps=20.0, step=5.0, iters=3), ThreatModel(0.25), batch_size=8)
    results = realiser(items)
    assert sum(r["projected_tokens"] for r in results) > 0
    for seq, r in zip(seqs, results):
        assert r["embedding_probs"].shape == (2,) and r["delta_norm"] <= 20.0 + 1e-3
        assert 0 < len(r["edits"]) <= int(0.25 * len(seq))
        assert len(apply_edits(seq, r["edits"])) == len(seq)  # refs match the original, length kept
    scores = NucleotideAttribution(victim, "input_x_gradient")([AttributionItem(s, 1, 1.0) for s in seqs])
    assert [len(x) for x in scores] == [len(s) for s in seqs]
    assert all(np.count_nonzero(x) == len(x) for x in scores)  # every nucleotide is read by some token
