"""Randomized smoothing: the certificate's math against brute force, the smoothed victim, `certify`."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.stats import binom

from genoarmory.defenses.certificate import certified_radius, clopper_pearson_lower, worst_case_mass
from genoarmory.defenses.certify import certified_summary
from genoarmory.defenses.smoothing import smoothed
from genoarmory.testing import embedded_default

from conftest import run_cli


def brute_force_worst_case(p_lower: float, noise: float, length: int, radius: int) -> float:
    """Neyman-Pearson over every noisy sequence z of a short sequence, enumerated one by one."""
    x = (0,) * length
    other = tuple(1 if i < radius else 0 for i in range(length))  # differs from x in `radius` positions

    def prob(centre, z):
        return np.prod([1 - noise if a == b else noise / 3 for a, b in zip(centre, z)])

    zs = list(itertools.product(range(4), repeat=length))
    px = np.array([prob(x, z) for z in zs])
    po = np.array([prob(other, z) for z in zs])
    order = np.argsort(-(px / po), kind="stable")
    need, worst = p_lower, 0.0
    for i in order:
        take = min(need, px[i])
        worst += take * po[i] / px[i]
        need -= take
        if need <= 1e-15:
            break
    return worst


@pytest.mark.parametrize("noise", [0.05, 0.1, 0.2, 0.5])
@pytest.mark.parametrize("radius", [1, 2, 3])
@pytest.mark.parametrize("p_lower", [0.6, 0.9, 0.99, 0.9999])
def test_worst_case_mass_matches_brute_force(noise, radius, p_lower):
    assert worst_case_mass(p_lower, noise, radius) == pytest.approx(
        brute_force_worst_case(p_lower, noise, 5, radius), rel=1e-9, abs=1e-12)


def test_certified_radius_is_monotone_and_abstains_below_half():
    assert certified_radius(0.5, 0.1, 3) == -1
    assert certified_radius(0.51, 0.1, 3) == 0
    radii = [certified_radius(p, 0.1, 3) for p in np.linspace(0.5, 1 - 1e-9, 400)]
    assert radii == sorted(radii) and radii[-1] == 3


@pytest.mark.parametrize("k,n", [(1000, 1000), (990, 1000), (37, 50), (1, 10)])
def test_clopper_pearson_lower_bound_has_its_level(k, n):
    low = clopper_pearson_lower(k, n, 0.001)
    assert binom.sf(k - 1, n, low) == pytest.approx(0.001, rel=1e-6)  # P(count >= k | p = bound) = alpha
    if k == n:
        assert low == pytest.approx(0.001 ** (1 / n))
    assert clopper_pearson_lower(0, n, 0.001) == 0.0


def test_certified_summary_counts_rows():
    rows = [{"id": "a", "label": 0, "base_pred": 0, "vote": 0, "prediction": 0, "radius": 2},
            {"id": "b", "label": 1, "base_pred": 1, "vote": 1, "prediction": -1, "radius": -1},
            {"id": "c", "label": 1, "base_pred": 0, "vote": 0, "prediction": 0, "radius": 3},
            {"id": "d", "label": 0, "base_pred": 0, "vote": 0, "prediction": 0, "radius": 0}]
    out = certified_summary(rows, [0, 1, 2, 3])
    assert out["certified_accuracy"] == {"0": 0.5, "1": 0.25, "2": 0.25, "3": 0.0}
    assert out["origin_acc"] == 0.75 and out["smoothed_acc"] == 0.75 and out["abstain_rate"] == 0.25


def test_smoothed_victim_votes_reproducibly_on_its_device():
    _, _, victim, examples = embedded_default(4)
    smooth = smoothed(victim, 0.1, 16, 0)
    seqs = [e.sequence for e in examples]
    first = smooth.predict_proba(seqs, use_cache=False)
    assert np.array_equal(first, smooth.predict_proba(seqs[::-1], use_cache=False)[::-1])  # batch-independent
    np.testing.assert_allclose(first * 16, np.round(first * 16), atol=1e-4)  # vote fractions of 16 copies
    plain = smooth.plain().predict_proba(seqs)
    assert (np.abs(first - plain).max(1) > 0).any()  # noise reaches the classifier: votes are not its answer


def test_certify_command_writes_rebuildable_certificates(tmp_path):
    out = tmp_path / "cert"
    assert run_cli("certify", "dataset.limit=4", "defense.n=100", "defense.n0=16", f"run_dir={out}",
                   "progress=false") == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "certificates.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    rebuilt = certified_summary(rows, [0, 1, 2, 3])
    assert all(summary[k] == v for k, v in rebuilt.items())
    for r in rows:  # each radius follows from its own count, independently of the stored bound
        assert r["radius"] == certified_radius(clopper_pearson_lower(r["count"], r["n"], 0.001), 0.1, 3)
    assert run_cli("read", str(out)) == 0
    assert run_cli("certify", "defense=at", f"run_dir={tmp_path / 'bad'}") == 2


@pytest.mark.slow
def test_no_attack_succeeds_within_the_certified_radius(tmp_path):
    """The embedded default smoothed at p=0.05: every query attack, budgeted at each certified example's own
    radius, fails against the smoothed victim; BERT-Attack with a few more edits does succeed on the same
    examples (at this noise a planted TATA box survives the vote), so the check could have failed."""
    from genoarmory.attacks.run import attack_examples
    from genoarmory.defenses.certify import certify_examples

    noise, limit = 0.05, 24
    _, task, victim, examples = embedded_default(limit)
    examples = [e for e in examples if e.label == 0]  # at this noise only negatives have votes this sure
    rows = certify_examples(smoothed(victim, noise, 16, 0), examples, 32, 600, 0.05, 3)
    by_id = {e.id: e for e in examples}
    certified = [(by_id[r["id"]], r["radius"]) for r in rows if r["prediction"] == r["label"] and r["radius"] >= 1]
    assert certified, f"no certified examples to test anything: {rows}"
    length = len(examples[0].sequence)

    def attack(name: str, edits: int, queries: int, group, out: str):
        cfg, _, _, _ = embedded_default(limit, [f"attack={name}", "attack.preserve=none", f"attack.query_budget={queries}",
                                                f"attack.max_perturb_ratio={edits / length}"])
        victim_ = smoothed(victim, noise, 16, 0)  # the attacked smoothed victim, cache of its own
        records, _ = attack_examples(cfg, victim_, group, tmp_path / out, out, task)
        return [r for r in records if r.succeeded]

    everyone = [e for e, _ in certified]
    assert attack("bertattack", 10, 300, everyone, "beyond"), "BERT-Attack never fooled the smoothed victim even " \
        "with 10 edits: the check below would have no teeth"
    for name in ("bertattack", "random", "textfooler"):
        for radius in sorted({r for _, r in certified}):
            group = [e for e, r in certified if r == radius]
            wins = attack(name, radius, 60, group, f"{name}-{radius}")
            assert not wins, f"{name} broke the certificate at radius {radius}: {wins[0].to_json()}"
