"""Real JASPAR motifs as numpy position weight matrices: load, threshold, scan, sample.

pyjaspar ships the JASPAR SQLite database (no network); Biopython turns the counts into a PWM with
pseudocounts and a log2-odds matrix. Scanning and the score distribution are vectorised numpy (Biopython's
`pssm.distribution` takes ~0.3 s per motif, too slow for scanning dozens of motifs inside `attack`).
Sequences are coded 0..3 for A, C, G, T; code 4 (N, padding) scores -inf, so no hit ever covers it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from genoarmory.errors import UserError

JASPAR_RELEASE = "JASPAR2026"  # pinned: the embedded tasks must not change when pyjaspar adds a release
BASES = "ACGT"
# Nishida, Frith & Nakai 2009 (NAR 37:939) found a total pseudocount of 0.8 per column, split by the
# background, works best for converting small count matrices to PWMs.
PSEUDOCOUNT_TOTAL = 0.8
_SCORE_GRID = 100  # score distribution resolution: 0.01 bit

_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _CODE[ord(_b)] = _i
    _CODE[ord(_b.lower())] = _i


def encode(sequences: list[str], length: int | None = None) -> np.ndarray:
    """(n, length) uint8 codes; shorter sequences are right-padded with 4 (N), which never scores."""
    length = max((len(s) for s in sequences), default=0) if length is None else length
    out = np.full((len(sequences), length), 4, dtype=np.uint8)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = _CODE[np.frombuffer(s.encode("ascii"), dtype=np.uint8)]
    return out


def decode(codes: np.ndarray) -> list[str]:
    table = np.frombuffer(b"ACGTN", dtype=np.uint8)
    return [table[row].tobytes().decode("ascii") for row in np.asarray(codes)]


@dataclass(frozen=True)
class PWMMotif:
    """One motif: `probs` (4, w) PWM with pseudocounts, `log_odds` (4, w) in bits against `background`,
    and `threshold`: a window is a hit when its log-odds score on either strand is >= threshold."""

    matrix_id: str
    name: str
    probs: np.ndarray
    log_odds: np.ndarray
    background: tuple[float, float, float, float]
    threshold: float

    @property
    def width(self) -> int:
        return self.log_odds.shape[1]

    def strand_scores(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every window (n, L - w + 1) on the + strand and on the - strand.

        The - strand score of window i is the score of its reverse complement: with A,C,G,T coded 0..3
        the complement of code c is 3 - c, so reversing both axes of the matrix scores it in place."""
        codes = np.atleast_2d(codes)
        n, length = codes.shape
        w = self.width
        if length < w:
            empty = np.full((n, 0), -np.inf)
            return empty, empty
        plus, minus = _padded(self.log_odds), _padded(self.log_odds[::-1, ::-1])
        fwd = np.zeros((n, length - w + 1))
        rev = np.zeros((n, length - w + 1))
        for j in range(w):  # w vectorised passes over all windows; no (n, L, w) temporary
            column = codes[:, j : length - w + 1 + j]
            fwd += plus[column, j]
            rev += minus[column, j]
        return fwd, rev

    def scores(self, codes: np.ndarray) -> np.ndarray:
        """Best-strand score of every window, (n, L - w + 1)."""
        fwd, rev = self.strand_scores(codes)
        return np.maximum(fwd, rev)

    def max_scores(self, codes: np.ndarray) -> np.ndarray:
        s = self.scores(codes)
        return s.max(axis=1) if s.shape[1] else np.full(s.shape[0], -np.inf)

    def hits(self, codes: np.ndarray) -> list[list[tuple[int, str, float]]]:
        """Per sequence, every window scoring >= threshold: (start, strand '+'/'-', best score)."""
        fwd, rev = self.strand_scores(codes)
        best = np.maximum(fwd, rev)
        out: list[list[tuple[int, str, float]]] = [[] for _ in range(best.shape[0])]
        for i, start in zip(*np.nonzero(best >= self.threshold)):
            out[i].append((int(start), "+" if fwd[i, start] >= rev[i, start] else "-", float(best[i, start])))
        return out

    def score_instance(self, site: str) -> float:
        """+ strand score of one site of exactly the motif's width."""
        return float(self.strand_scores(encode([site]))[0][0, 0])

    def sample_instances(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n sites (n, w) drawn column by column from the PWM, kept only when they score >= threshold
        (rejection sampling: instances look like real binding sites, and each one is a hit)."""
        cum = np.cumsum(self.probs, axis=0)
        kept: list[np.ndarray] = []
        have, rounds = 0, 0
        while have < n:
            rounds += 1
            if rounds > 1000:
                raise UserError(f"motif {self.matrix_id}: PWM samples almost never reach the threshold "
                                f"{self.threshold:.2f}; lower threshold_fpr")
            batch = 2 * (n - have) + 16
            u = rng.random((batch, self.width))
            sites = (u[:, None, :] > cum[None, :, :]).sum(axis=1).astype(np.uint8)
            sites = np.minimum(sites, 3)  # guards u == cum[-1] == 1.0 after float rounding
            good = sites[self.strand_scores(sites)[0][:, 0] >= self.threshold]
            kept.append(good)
            have += len(good)
        return np.concatenate(kept)[:n]


def _padded(matrix: np.ndarray) -> np.ndarray:
    """Append the N row (-inf), so windows over N or padding never become hits."""
    return np.vstack([matrix, np.full((1, matrix.shape[1]), -np.inf)])


def threshold_for_fpr(log_odds: np.ndarray, background, fpr: float) -> float:
    """Lowest score t (on a 0.01-bit grid) with P(score >= t) <= fpr for one strand of a window of
    i.i.d. background bases: the exact score distribution by convolution, column by column."""
    scaled = np.round(log_odds * _SCORE_GRID).astype(np.int64)
    lows = scaled.min(axis=0)
    dist = np.ones(1)
    for j in range(scaled.shape[1]):
        offsets = scaled[:, j] - lows[j]
        new = np.zeros(len(dist) + offsets.max())
        for b in range(4):
            new[offsets[b] : offsets[b] + len(dist)] += background[b] * dist
        dist = new
    tail = np.cumsum(dist[::-1])[::-1]  # tail[k] = P(score >= lows.sum() + k)
    k = int(np.argmax(tail <= fpr)) if (tail <= fpr).any() else len(dist) - 1
    return float((lows.sum() + k) / _SCORE_GRID)


@lru_cache(maxsize=None)
def _jaspar(release: str = JASPAR_RELEASE):
    from pyjaspar import jaspardb

    return jaspardb(release=release)


def fetch_motifs(release: str = JASPAR_RELEASE, **criteria) -> list:
    """Biopython motifs of a JASPAR release matching pyjaspar's criteria (e.g. collection='CORE')."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(_jaspar(release).fetch_motifs(**criteria))


@lru_cache(maxsize=4096)
def load_motif(matrix_id: str, background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
               threshold_fpr: float = 1e-4, release: str = JASPAR_RELEASE) -> PWMMotif:
    """A JASPAR matrix ('MA0108.3', or 'MA0108' for its latest version in the pinned release) as a PWMMotif
    whose threshold gives a per-window, per-strand false-positive rate of `threshold_fpr` on `background`."""
    with warnings.catch_warnings():  # pyjaspar warns before returning None; we raise one clear line instead
        warnings.simplefilter("ignore")
        motif = _jaspar(release).fetch_motif_by_id(matrix_id)
    if motif is None:
        raise UserError(f"JASPAR matrix {matrix_id!r} not found in {release}")
    return pwm_motif(motif, background, threshold_fpr)


def pwm_motif(motif, background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
              threshold_fpr: float = 1e-4) -> PWMMotif:
    """A Biopython/pyjaspar motif as a PWMMotif (see `load_motif`)."""
    bg = dict(zip(BASES, background))
    pwm = motif.counts.normalize(pseudocounts={b: PSEUDOCOUNT_TOTAL * bg[b] for b in BASES})
    pssm = pwm.log_odds(bg)
    probs = np.array([[pwm[b][j] for j in range(motif.length)] for b in BASES])
    log_odds = np.array([[pssm[b][j] for j in range(motif.length)] for b in BASES])
    return PWMMotif(
        matrix_id=motif.matrix_id,
        name=motif.name,
        probs=probs,
        log_odds=log_odds,
        background=tuple(background),
        threshold=threshold_for_fpr(log_odds, background, threshold_fpr),
    )
