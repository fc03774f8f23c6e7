"""Embedded motif tasks: seeded synthetic DNA with real JASPAR motifs planted in it.

Every example is background DNA from a human-like Markov chain. Positives carry motif instances
sampled from the JASPAR PWM; the label is defined by a PWM log-odds threshold, and every sequence is
resampled until its hits (both strands, every motif of the task) are exactly the planted sites, so a
PWM scan recovers every label and `meta["motif_spans"]` is the complete ground truth:
[[start, end, matrix_id], ...], 0-based, end exclusive, sorted by start ([] when nothing is planted).

Rules:
  any           positive = an instance of one of `motifs` (chosen uniformly, random strand and offset);
                negative = no hit of any motif.
  ordered_pair  motifs = [X, Y]; positive = X then Y on the + strand with `gap` free bases between
                (gap_min <= gap <= gap_max). Negatives, in equal shares: none, X only, Y only, Y then X
                (same gaps: wrong order), X then Y too far apart (wrong spacing). The spans mark every
                planted site, i.e. the sites whose presence, order and spacing decide the label.
Splits use independent seeds (seed, split), so resizing train never changes test.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from genoarmory.data.example import Example, LazySplits, Task
from genoarmory.data.oracles import Oracles
from genoarmory.data.oracles.motif_rule import MotifHits, MotifRule
from genoarmory.data.pwm import JASPAR_RELEASE, PWMMotif, decode, load_motif
from genoarmory.errors import UserError

SPLITS = ("train", "dev", "test")
RULES = ("any", "ordered_pair")
NEGATIVE_CASES = ("none", "x_only", "y_only", "wrong_order", "wrong_spacing")
WRONG_SPACING_MARGIN = 10  # wrong-spacing negatives sit >= 10 nt beyond gap_max: clearly outside the window

# Human-genome-like background (first-order Markov chain):
# - GC 40.9 %: hg38 (the draft genome paper, Lander et al. 2001, Nature 409:860, reports 41 %).
# - CpG at ~1/5 of the frequency expected from base composition (Lander et al. 2001: CpG dinucleotides
#   are depleted to about one-fifth, through deamination of methylated C); we use an observed/expected of 0.22.
# - TpG and CpA, the products of that deamination, are correspondingly over-represented; we use an
#   observed/expected of 1.2 (approximate; human bulk DNA is ~1.2-1.3). All other dinucleotides 1.0.
GENOME_GC = 0.409
DINUCLEOTIDE_OE = {"CG": 0.22, "TG": 1.2, "CA": 1.2}


def markov_background(gc: float = GENOME_GC, dinucleotide_oe: dict[str, float] | None = None):
    """(base frequencies p, transition matrix T) of a first-order chain whose stationary composition is p
    (A = T = (1 - gc) / 2, C = G = gc / 2) and whose dinucleotide observed/expected ratios are
    `dinucleotide_oe` for the pairs it names. The joint dinucleotide table p_x p_y w_xy is balanced by
    Sinkhorn scaling so its row and column sums both equal p (T[x, y] = joint[x, y] / p[x] then keeps p
    stationary); the named pairs' weights w are re-fitted around it until their o/e hit the targets."""
    oe = DINUCLEOTIDE_OE if dinucleotide_oe is None else dinucleotide_oe
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    target = {("ACGT".index(a), "ACGT".index(b)): ratio for (a, b), ratio in oe.items()}
    weights = np.ones((4, 4))
    for _ in range(100):
        joint = np.outer(p, p) * weights
        for _ in range(100):
            joint *= (p / joint.sum(axis=1))[:, None]
            joint *= (p / joint.sum(axis=0))[None, :]
        observed = joint / np.outer(p, p)
        for ij, ratio in target.items():
            weights[ij] *= ratio / observed[ij]
    return p, joint / joint.sum(axis=1, keepdims=True)


def sample_background(n: int, length: int, rng: np.random.Generator, p: np.ndarray, transition: np.ndarray):
    """(n, length) base codes from the Markov chain, all n sequences advanced together."""
    cum_p, cum_t = np.cumsum(p), np.cumsum(transition, axis=1)
    u = rng.random((n, length))
    out = np.empty((n, length), dtype=np.uint8)
    out[:, 0] = np.minimum((u[:, 0:1] > cum_p[None, :]).sum(axis=1), 3)
    for i in range(1, length):
        out[:, i] = np.minimum((u[:, i : i + 1] > cum_t[out[:, i - 1]]).sum(axis=1), 3)
    return out


def _layouts(n_pos: int, n_neg: int, rule: str, widths: list[int], length: int, gap: tuple[int, int],
             rng: np.random.Generator) -> list[tuple[int, str, list[tuple[int, int, str]]]]:
    """Per example: (label, case, [(motif index, start, strand), ...]) in a shuffled label order."""
    labels = rng.permutation(np.array([1] * n_pos + [0] * n_neg))
    out = []
    for label in labels:
        if rule == "any":
            if not label:
                out.append((0, "none", []))
                continue
            m = int(rng.integers(len(widths)))
            start = int(rng.integers(0, length - widths[m] + 1))
            out.append((1, "motif", [(m, start, "+" if rng.random() < 0.5 else "-")]))
            continue
        case = "pair" if label else NEGATIVE_CASES[int(rng.integers(len(NEGATIVE_CASES)))]
        wx, wy = widths
        if case in ("pair", "wrong_order", "wrong_spacing"):
            if case == "wrong_spacing":
                g = int(rng.integers(gap[1] + WRONG_SPACING_MARGIN, length - wx - wy + 1))
            else:
                g = int(rng.integers(gap[0], gap[1] + 1))
            first, second = (1, 0) if case == "wrong_order" else (0, 1)
            start = int(rng.integers(0, length - wx - wy - g + 1))
            sites = [(first, start, "+"), (second, start + widths[first] + g, "+")]
        elif case in ("x_only", "y_only"):
            m = 0 if case == "x_only" else 1
            sites = [(m, int(rng.integers(0, length - widths[m] + 1)), "+")]
        else:
            sites = []
        out.append((int(label), case, sites))
    return out


def _realise(layouts, motifs: list[PWMMotif], length: int, rng: np.random.Generator, background) -> np.ndarray:
    """Sequences for the layouts: background + PWM-sampled sites, resampled until every sequence's hits
    are exactly its planted sites (same motif, same start; either strand)."""
    codes = np.empty((len(layouts), length), dtype=np.uint8)
    pending = np.arange(len(layouts))
    for _ in range(1000):
        if not len(pending):
            return codes
        batch = sample_background(len(pending), length, rng, *background)
        for m, motif in enumerate(motifs):
            slots = [(row, start, strand) for row, i in enumerate(pending)
                     for mi, start, strand in layouts[i][2] if mi == m]
            if not slots:
                continue
            sites = motif.sample_instances(len(slots), rng)
            for (row, start, strand), site in zip(slots, sites):
                batch[row, start : start + motif.width] = site if strand == "+" else 3 - site[::-1]
        found = [set() for _ in pending]
        for m, motif in enumerate(motifs):
            for row, hits in enumerate(motif.hits(batch)):
                found[row].update((m, start) for start, _, _ in hits)
        ok = np.array([found[row] == {(m, s) for m, s, _ in layouts[i][2]} for row, i in enumerate(pending)])
        codes[pending[ok]] = batch[ok]
        pending = pending[~ok]
    raise UserError("motif task: background keeps producing extra motif hits; raise threshold_fpr's strictness")


def make_motif_task(
    name: str,
    motifs: list[str],
    length: int = 100,
    n_train: int = 4000,
    n_dev: int = 500,
    n_test: int = 500,
    seed: int = 0,
    rule: str = "any",
    threshold_fpr: float = 1e-4,
    gap: tuple[int, int] | list[int] = (4, 12),
    positive_fraction: float = 0.5,
    gc: float = GENOME_GC,
) -> Task:
    """Generate the task (a few seconds, no network). `motifs` are JASPAR matrix ids ('MA0108.3');
    `threshold_fpr` sets the hit threshold as a per-window, per-strand false-positive rate on the
    background composition; `gap` = (min, max) free bases between X and Y for rule 'ordered_pair'."""
    motifs = [str(m) for m in motifs]
    if rule not in RULES:
        raise UserError(f"motif task {name}: unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    if not motifs or (rule == "ordered_pair" and len(motifs) != 2):
        raise UserError(f"motif task {name}: rule {rule!r} needs {'two motifs' if motifs else 'a motif'}")
    gap = (int(gap[0]), int(gap[1]))
    background = markov_background(gc)
    pwms = [load_motif(m, tuple(float(x) for x in background[0]), float(threshold_fpr)) for m in motifs]
    widths = [m.width for m in pwms]
    need = sum(widths) + gap[1] + WRONG_SPACING_MARGIN if rule == "ordered_pair" else max(widths)
    if length < need:
        raise UserError(f"motif task {name}: length {length} is too short; need at least {need}")

    def make_split(k: int, split: str, n: int) -> list[Example]:
        rng = np.random.default_rng([int(seed), k])
        n_pos = int(round(n * positive_fraction))
        layouts = _layouts(n_pos, n - n_pos, rule, widths, length, gap, rng)
        sequences = decode(_realise(layouts, pwms, length, rng, background))
        examples = []
        for i, ((label, case, sites), seq) in enumerate(zip(layouts, sequences)):
            sites = sorted(sites, key=lambda s: s[1])
            meta = {
                "motif_spans": [[s, s + widths[m], pwms[m].matrix_id] for m, s, _ in sites],
                "motif_strands": [strand for _, _, strand in sites],
            }
            if rule == "ordered_pair":
                meta["case"] = case
            examples.append(Example(f"{split}:{i}", seq, label, meta))
        return examples

    splits = LazySplits({split: partial(make_split, k, split, n)
                         for k, (split, n) in enumerate(zip(SPLITS, (n_train, n_dev, n_test)))})

    info = {
        "source": f"embedded: synthetic DNA with {JASPAR_RELEASE} motifs (seed {seed})",
        "rule": rule,
        "gap": list(gap) if rule == "ordered_pair" else None,
        "motifs": [{"matrix_id": m.matrix_id, "name": m.name, "width": m.width, "threshold": m.threshold}
                   for m in pwms],
        "threshold_fpr": float(threshold_fpr),
        "background": {"gc": gc, "dinucleotide_oe": DINUCLEOTIDE_OE, "order": 1,
                       "probs": [float(x) for x in background[0]]},  # what the motifs' log-odds are against
    }
    oracles = Oracles(label_factory=lambda: MotifRule(pwms, rule, gap if rule == "ordered_pair" else None),
                      element_factory=lambda: MotifHits(pwms, f"hits of {', '.join(m.matrix_id for m in pwms)}"),
                      note="exact: the rule that generated and labelled the task")
    return Task(name=name, num_labels=2, splits=splits, info=info, oracles=oracles)
