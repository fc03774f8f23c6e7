"""What token-id candidate edits could save: the host cost of tokenising attack candidates as strings.

    python benchmarks/encode_cost.py [--n 4096] [--length 300]

A batch of `--n` single-substitution candidates of one `--length`-nt sequence (what a search sends), encoded
by `SequenceEncoder.encode` for a 6-mer (NT's rule) and a single-nucleotide vocabulary, against copying the
original's ids and changing the one token each edit touches (the token-id path, written here in numpy).
Prints microseconds per candidate for both and the ids' equality.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import victims as V  # noqa: E402

from genoarmory.models.encoding import SequenceEncoder  # noqa: E402
from genoarmory.models.tiny_tokenizers import build_tiny_tokenizer  # noqa: E402


def candidates(n: int, length: int, seed: int = 0) -> tuple[str, list[tuple[int, str]], list[str]]:
    rng = np.random.default_rng(seed)
    original = "".join(rng.choice(list("ACGT"), length))
    edits = [(int(p), "ACGT"[(("ACGT".index(original[p])) + int(rng.integers(1, 4))) % 4])
             for p in rng.integers(0, length, n)]
    return original, edits, [original[:p] + b + original[p + 1:] for p, b in edits]


def per_candidate_us(fn, n: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--length", type=int, default=300)
    args = p.parse_args(argv)
    original, edits, strings = candidates(args.n, args.length)
    with tempfile.TemporaryDirectory() as tmp:
        for name, tokenizer, tokenization, k in (("6-mer", V.nt_tokenizer(Path(tmp)), "kmer", 6),
                                                 ("char", build_tiny_tokenizer("char"), "char", 1)):
            encoder = SequenceEncoder(tokenizer, tokenization, 4096, k=k)
            lookup = encoder._lookup  # the encoder's own k-mer and base tables, verified against the tokenizer
            base = encoder.encode([original])["input_ids"].numpy()[0]
            whole = len(original) // k * k

            def by_ids():
                ids = np.repeat(base[None], len(edits), axis=0)
                for row, (pos, alt) in enumerate(edits):  # one token per substitution
                    if pos < whole:
                        start = pos // k * k
                        mer = original[start:pos] + alt + original[pos + 1:start + k]
                        ids[row, len(lookup.prefix) + pos // k] = lookup._kmer_index[mer]
                    else:
                        ids[row, len(lookup.prefix) + whole // k + pos - whole] = lookup._base_index[alt]
                return ids

            strings_us = per_candidate_us(lambda: encoder.encode(strings), len(strings))
            ids_us = per_candidate_us(by_ids, len(edits))
            same = bool((by_ids() == encoder.encode(strings)["input_ids"].numpy()).all())
            print(f"{name}: strings {strings_us:.2f} us/candidate, token-id edits {ids_us:.2f} us/candidate, "
                  f"same ids: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
