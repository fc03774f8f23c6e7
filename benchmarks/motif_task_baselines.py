"""How hard is each embedded motif task? PWM scan (should be ~100 %) vs k-mer logistic regressions.

    python benchmarks/motif_task_baselines.py [tata ctcf grammar]

Trains on the train split, reports test accuracy / MCC, and the background's measured GC and CpG o/e.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, matthews_corrcoef

from genoarmory.config import CONF_DIR
from genoarmory.data.motif import make_motif_task
from genoarmory.data.pwm import encode, load_motif

CONF = CONF_DIR / "dataset" / "motif"


def pwm_predictions(task, examples):
    """Rule 'any': max PWM score >= threshold. Rule 'ordered_pair': X hit then Y hit within the gap window."""
    info = task.info
    bg = tuple(float(x) for x in np.array([1 - info["background"]["gc"], info["background"]["gc"],
                                           info["background"]["gc"], 1 - info["background"]["gc"]]) / 2)
    motifs = [load_motif(m["matrix_id"], bg, info["threshold_fpr"]) for m in info["motifs"]]
    codes = encode([e.sequence for e in examples])
    if info["rule"] == "any":
        return np.any([m.max_scores(codes) >= m.threshold for m in motifs], axis=0).astype(int)
    (x, y), (gmin, gmax) = motifs, info["gap"]
    hx, hy = x.hits(codes), y.hits(codes)
    return np.array([int(any(gmin <= sy - (sx + x.width) <= gmax for sx, _, _ in a for sy, _, _ in b))
                     for a, b in zip(hx, hy)])


def single_motif_max(task, examples):
    """For the grammar task: does any one motif's presence alone predict the label?"""
    info = task.info
    gc = info["background"]["gc"]
    bg = ((1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2)
    codes = encode([e.sequence for e in examples])
    return [(m["name"], (load_motif(m["matrix_id"], bg, info["threshold_fpr"]).max_scores(codes)
                         >= m["threshold"]).astype(int)) for m in info["motifs"]]


def nonoverlapping(k):
    """Bag of non-overlapping k-mer tokens from position 0, as tiny-6mer / NT tokenise."""
    return lambda s: [s[i : i + k] for i in range(0, len(s) - k + 1, k)]


def kmer_lr(train, test, k, analyzer="char"):
    vec = (CountVectorizer(analyzer="char", ngram_range=(k, k), lowercase=False) if analyzer == "char"
           else CountVectorizer(analyzer=analyzer, lowercase=False))
    xtr = vec.fit_transform([e.sequence for e in train])
    clf = LogisticRegression(max_iter=3000, C=1.0).fit(xtr, [e.label for e in train])
    return clf.predict(vec.transform([e.sequence for e in test]))


def background_stats(examples):
    seqs = [e.sequence for e in examples if not e.meta["motif_spans"]]
    text = "".join(seqs)
    freq = {b: text.count(b) / len(text) for b in "ACGT"}
    pairs = sum(len(s) - 1 for s in seqs)
    cg = sum(sum(1 for i in range(len(s) - 1) if s[i : i + 2] == "CG") for s in seqs) / pairs
    return freq["G"] + freq["C"], cg / (freq["C"] * freq["G"])


def main(names):
    for name in names:
        cfg = OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml").loader)
        cfg.pop("_target_")
        t0 = time.perf_counter()
        task = make_motif_task(**cfg)
        gen = time.perf_counter() - t0
        train, test = task.split("train"), task.split("test")
        y = np.array([e.label for e in test])
        gc, cpg = background_stats(train)
        print(f"{name}: generated {sum(map(len, task.splits.values()))} examples in {gen:.2f} s; "
              f"positives {np.mean([e.label for e in train]):.3f}; negative-background GC {gc:.3f}, CpG o/e {cpg:.2f}")
        rows = [("PWM rule (threshold scan)", pwm_predictions(task, test))]
        if task.info["rule"] == "ordered_pair":
            rows += [(f"presence of {n} alone", p) for n, p in single_motif_max(task, test)]
        rows += [(f"logreg {k}-mer counts", kmer_lr(train, test, k)) for k in (3, 6)]
        rows += [("logreg 6-mer tokens (non-overl.)", kmer_lr(train, test, 6, nonoverlapping(6)))]
        for label, pred in rows:
            print(f"  {label:<33} acc {accuracy_score(y, pred):.3f}  MCC {matthews_corrcoef(y, pred):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["tata", "ctcf", "grammar"])
