"""The most discriminative JASPAR motifs of a task, learned from its own training split (GUE tf/*, mouse/*).

Statistic, per JASPAR2026 CORE vertebrate matrix (latest versions): the fraction of positive (label 1) and
of negative training sequences with at least one hit (threshold at a per-window, per-strand FPR of `fpr` on
the split's own base composition); one-sided Fisher exact test for enrichment in the positives. Kept: up to
`top_k` matrices with p <= `max_p` and log2(presence ratio) >= `min_log2_ratio`, best p first, one per
distinct TF name. At most `max_per_class` sequences per class are scanned (a seeded subset). The choice is
cached under cache_dir/oracles keyed by the split's content hash and these settings, and saved with every
run that uses it (summary.json's label_check). An approximation, and named so: these elements are what the
training data says distinguishes the classes, not a proof of what the TF binds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genoarmory.data.example import Example
from genoarmory.data.oracles.motif_rule import MotifHits
from genoarmory.data.pwm import JASPAR_RELEASE, encode, fetch_motifs, load_motif, pwm_motif


@dataclass(frozen=True)
class Settings:
    top_k: int = 3
    fpr: float = 1e-4
    max_p: float = 1e-6
    min_log2_ratio: float = 1.0
    max_per_class: int = 2000
    seed: int = 0


def _subset(examples: list[Example], settings: Settings) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(settings.seed)
    chosen = []
    for label in (0, 1):
        idx = np.flatnonzero([e.label == label for e in examples])
        if len(idx) > settings.max_per_class:
            idx = np.sort(rng.choice(idx, settings.max_per_class, replace=False))
        chosen += list(idx)
    chosen.sort()
    return [examples[i].sequence for i in chosen], np.array([examples[i].label for i in chosen])


def _background(sequences: list[str]) -> tuple[float, float, float, float]:
    counts = np.array([sum(s.count(b) for s in sequences) for b in "ACGT"], dtype=float)
    gc = (counts[1] + counts[2]) / max(1.0, counts.sum())
    return ((1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2)  # strand-symmetric, as the scan reads both strands


def learn(examples: list[Example], settings: Settings = Settings()) -> dict:
    """The chosen matrices and the statistics of every candidate that passed (plain data)."""
    from scipy.stats import fisher_exact

    sequences, labels = _subset(examples, settings)
    background = _background(sequences)
    by_length: dict[int, list[int]] = {}
    for i, s in enumerate(sequences):
        by_length.setdefault(len(s), []).append(i)
    groups = [(np.array(idx), encode([sequences[i] for i in idx])) for idx in by_length.values()]
    pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
    rows = []
    for motif in fetch_motifs(JASPAR_RELEASE, collection="CORE", tax_group="vertebrates", all_versions=False):
        pwm = pwm_motif(motif, background, settings.fpr)
        present = np.zeros(len(sequences), dtype=bool)
        for idx, codes in groups:
            present[idx] = pwm.max_scores(codes) >= pwm.threshold
        a, b = int(present[labels == 1].sum()), int(present[labels == 0].sum())
        ratio = np.log2((a + 1) / (pos + 1)) - np.log2((b + 1) / (neg + 1))
        if ratio < settings.min_log2_ratio:
            continue
        p = float(fisher_exact([[a, pos - a], [b, neg - b]], alternative="greater")[1])
        if p <= settings.max_p:
            rows.append({"matrix_id": pwm.matrix_id, "name": pwm.name, "positives_with_hit": a / pos,
                         "negatives_with_hit": b / neg, "log2_ratio": round(float(ratio), 4), "p_value": p,
                         "threshold": round(pwm.threshold, 4)})
    rows.sort(key=lambda r: (r["p_value"], -r["log2_ratio"], r["matrix_id"]))
    chosen, names = [], set()
    for r in rows:
        if r["name"].upper() not in names:
            names.add(r["name"].upper())
            chosen.append(r)
        if len(chosen) == settings.top_k:
            break
    return {"statistic": "one-sided Fisher exact test of hit presence, positives (label 1) vs negatives",
            "settings": settings.__dict__, "background": list(background), "n_positive": pos, "n_negative": neg,
            "n_passing": len(rows), "chosen": chosen}


def split_digest(examples: list[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{e.sequence},{e.label}\n".encode())
    return digest.hexdigest()[:16]


def discriminative_motifs(task_name: str, train: list[Example], cache_dir: Path | None,
                          settings: Settings = Settings()) -> MotifHits:
    """The element oracle of a TF-binding task (see the module note); learned once, then read from cache."""
    key = hashlib.sha256(json.dumps([split_digest(train), settings.__dict__, JASPAR_RELEASE]).encode()).hexdigest()[:16]
    path = Path(cache_dir) / "oracles" / f"{task_name.replace('/', '-')}-{key}.json" if cache_dir else None
    learned = None
    if path is not None and path.is_file():
        try:
            learned = json.loads(path.read_text())
        except ValueError:
            learned = None  # a broken cache entry is relearned
    if learned is None:
        learned = learn(train, settings)
        if path is not None:
            from genoarmory.results.files import write_json_atomic

            write_json_atomic(path, learned)
    background = tuple(learned["background"])
    motifs = [load_motif(r["matrix_id"], background, settings.fpr) for r in learned["chosen"]]
    ids = ", ".join(f"{m.matrix_id} {m.name}" for m in motifs) or "none passed"
    return MotifHits(motifs, f"discriminative motifs of {task_name} ({ids}; learned from its train split)", learned)
