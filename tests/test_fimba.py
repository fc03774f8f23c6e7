"""FIMBA: attributions that are real (IG completeness), mapped to nucleotides, ranking the engine's search."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import run_cli
from test_pgd import dna, random_victim


def test_integrated_gradients_are_complete_per_nucleotide():
    """IG's defining property: the nucleotide scores sum to p(x) - p(baseline) for the attributed class."""
    from genoarmory.attacks.attribution import AttributionItem, NucleotideAttribution
    from genoarmory.attacks.embedding_batch import embed_batch

    victim = random_victim("kmer6", seed=3, dropout=0.0)
    seqs = [dna(40, 10), dna(52, 11)]
    items = [AttributionItem(seqs[0], 0, 1.0), AttributionItem(seqs[1], 1, 1.0)]
    scores = NucleotideAttribution(victim, "integrated_gradients", steps=200)(items)
    batch = embed_batch(victim, seqs, [set(), set()])
    pad = victim.input_embeddings().weight[victim.encoder.pad_id].detach()
    with torch.no_grad():
        p = torch.softmax(victim.forward_from_embeddings(batch.embeds, batch.attention_mask), -1)
        base = torch.softmax(victim.forward_from_embeddings(torch.where(batch.editable > 0, pad, batch.embeds),
                                                            batch.attention_mask), -1)
    for i, it in enumerate(items):
        assert scores[i].shape == (len(it.sequence),)
        expected = float(p[i, it.target] - base[i, it.target])
        assert abs(expected) > 1e-3
        assert scores[i].sum() == pytest.approx(expected, rel=0.02, abs=1e-4)


def test_token_attribution_is_spread_over_its_nucleotides():
    from genoarmory.attacks.attribution import AttributionItem, NucleotideAttribution
    from genoarmory.attacks.embedding_batch import EmbeddedBatch

    rows = [[(1, (0, 6)), (2, (6, 12)), (3, (12, 13))], [(1, (0, 3)), (2, (1, 4)), (3, (2, 5))]]  # 6-mers; overlapping
    batch = EmbeddedBatch(torch.zeros(2, 5, 4), torch.ones(2, 5), torch.zeros(2, 5), rows, torch.ones(2, 5, 1))
    per_row = torch.tensor([9.0, 6.0, -12.0, 3.0, 9.0])
    flat = NucleotideAttribution._to_nucleotides(batch, 0, per_row, AttributionItem("A" * 13, 0, 1.0))
    assert flat.tolist() == [1.0] * 6 + [-2.0] * 6 + [3.0]
    targeted = NucleotideAttribution._to_nucleotides(batch, 1, per_row, AttributionItem("A" * 5, 1, -1.0))
    assert targeted.tolist() == [-2.0, 2.0, 1.0, 3.0, -1.0]


def test_gradient_shap_does_not_depend_on_the_batch():
    from genoarmory.attacks.attribution import AttributionItem, NucleotideAttribution

    victim = random_victim("bpe", seed=4, dropout=0.0)
    shap = NucleotideAttribution(victim, "gradient_shap", steps=4)
    a, b = AttributionItem(dna(30, 12), 0, 1.0), AttributionItem(dna(45, 13), 1, 1.0)
    alone = shap([a])[0]
    np.testing.assert_allclose(shap([b, a])[1], alone, rtol=1e-4, atol=1e-6)
    assert np.abs(alone).sum() > 0


def test_the_engine_walks_nucleotides_in_the_order_the_importance_hook_gives():
    from genoarmory.attacks.constraints import ThreatModel
    from genoarmory.attacks.goal import Goal
    from genoarmory.attacks.search import AttackSpec, Budget, greedy_search
    from genoarmory.attacks.transformations import BaseSubstitution
    from genoarmory.data.example import Example

    victim = random_victim("char", seed=5, dropout=0.0)
    seq = dna(30, 14)
    label = int(victim.predict_proba([seq])[0].argmax())
    gains = np.zeros(len(seq))
    gains[[17, 4, 25]] = [3.0, 2.0, 1.0]

    def importance(original, units, goal):
        yield []  # the hook may ask the engine for a step, as FIMBA's batched attribution does
        return [gains[a:b].sum() for a, b in units]

    spec = AttackSpec("fimba-test", ThreatModel(0.1), BaseSubstitution(), importance=importance, units="nucleotide",
                      accept="always")
    search = greedy_search(spec, victim, Example("x", seq, label), Goal(label), np.random.default_rng(0), Budget(None))
    request = next(search)
    try:
        while True:
            request = search.send(victim.predict_proba(request))
    except StopIteration as stop:
        outcome = stop.value
    assert [pos for pos, _, _ in outcome.edits] == sorted([17, 4, 25][:len(outcome.edits)])


@pytest.mark.parametrize("settings,passes", [([], 50), (["attack.attribution=gradient_shap", "attack.steps=4",
                                                          "attack.units=token"], 4)])
def test_fimba_attack_cli(quick_tiny_model, tmp_path, settings, passes):
    run_dir = tmp_path / "fimba"
    assert run_cli("attack", f"model.path={quick_tiny_model / 'model'}", "attack=fimba", *settings, "dataset.limit=6",
                   f"run_dir={run_dir}", "progress=false") == 0
    records = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    attacked = [r for r in records if r["status"] != "skipped"]
    assert attacked and all(r["gradient_queries"] == passes and r["queries"] > 1 for r in attacked)
    assert all(len(r["edits"]) <= 10 for r in attacked)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["average_gradient_queries"] == passes and "embedding_asr" not in summary
