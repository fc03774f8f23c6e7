"""The certificate of randomized smoothing over substitutions (Lee et al., NeurIPS 2019, discrete case).

Noise: every base is kept with probability q = 1 - p and otherwise replaced by one of the other K - 1 = 3
bases, each with probability s = p / 3. The smoothed classifier g(x) is the most probable class of the base
classifier on noisy copies of x. Given a lower bound pA on P(f(noise(x)) = A), g(x') = A for every x' within
Hamming distance r of x when the least P(f(noise(x')) = A) over all classifiers f compatible with pA is
above 1/2.

That least value follows from Neyman-Pearson: f's A-region is filled with the noisy sequences z of the
largest likelihood ratio P_x(z) / P_x'(z) first. Only the r positions where x and x' differ matter; among
them, with a = how many z equal to x and b = how many equal to x', the ratio is (q/s)^(a-b): one class of
z for each t = a - b. Under x the counts (a, b, rest) are multinomial over (q, s, (K-2) s), under x' over
(s, q, (K-2) s). Filling classes of decreasing t until their mass under x reaches pA (the last class in
part) gives the worst-case mass under x', which is tight because every class is a union of many z.

The bound pA is Clopper-Pearson's one-sided (1 - alpha) lower bound on the count of A in n samples, with
A chosen on n0 separate samples (Cohen et al. 2019's CERTIFY); below 1/2 the example is abstained on.
"""

from __future__ import annotations

from math import comb

import numpy as np
from scipy.stats import beta

ALPHABET = 4


def clopper_pearson_lower(successes: int, trials: int, alpha: float) -> float:
    """One-sided lower confidence bound (level 1 - alpha) of a binomial proportion."""
    if successes <= 0:
        return 0.0
    return float(beta.ppf(alpha, successes, trials - successes + 1))


def worst_case_mass(p_lower: float, noise: float, radius: int, alphabet: int = ALPHABET) -> float:
    """The least probability of class A under the noise around any x' at Hamming distance `radius` of x,
    over all classifiers whose A-probability under the noise around x is `p_lower`."""
    if radius == 0:
        return p_lower
    q, s = 1.0 - noise, noise / (alphabet - 1)
    rest = (alphabet - 2) * s
    under_x: dict[int, float] = {}
    under_other: dict[int, float] = {}
    for a in range(radius + 1):
        for b in range(radius - a + 1):
            ways = comb(radius, a) * comb(radius - a, b)
            left = radius - a - b
            under_x[a - b] = under_x.get(a - b, 0.0) + ways * q ** a * s ** b * rest ** left
            under_other[a - b] = under_other.get(a - b, 0.0) + ways * s ** a * q ** b * rest ** left
    need, worst = p_lower, 0.0
    for t in sorted(under_x, reverse=True):  # largest likelihood ratio (q/s)^t first
        take = min(need, under_x[t])
        worst += take * under_other[t] / under_x[t]
        need -= take
        if need <= 0:
            break
    return worst


def certified_radius(p_lower: float, noise: float, max_radius: int, alphabet: int = ALPHABET) -> int:
    """The largest r <= max_radius certified at every radius up to it; -1 when not even r = 0 is
    (p_lower <= 1/2: abstain)."""
    radius = -1
    for r in range(max_radius + 1):
        if worst_case_mass(p_lower, noise, r, alphabet) <= 0.5:
            break
        radius = r
    return radius


def vote_counts(predictions: np.ndarray, num_labels: int) -> np.ndarray:
    """[examples, samples] predicted classes -> [examples, num_labels] counts."""
    out = np.zeros((predictions.shape[0], num_labels), dtype=np.int64)
    for k in range(num_labels):
        out[:, k] = (predictions == k).sum(1)
    return out
