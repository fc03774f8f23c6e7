"""How many inputs one forward+backward pass of a gradient attack takes (FIMBA's attribution, PGD), and the
loop that feeds them.

`grad_batch_size: auto` is 32 on CPU — the size every CPU record so far was made with, so CPU records stay
byte-identical — and 512 on CUDA, where 32 rows per pass left the H200 waiting on the host: FIMBA ran at
15 sequences/s on a DNABERT-2-size victim (benchmarks/RESULTS.md, run 6). On CUDA out-of-memory the size
halves and the batches not yet computed are regrouped, as the victim's forward does (models/victim.py).
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

import torch

from genoarmory.attacks.embedding_batch import same_length_batches

CPU_ROWS = 32
CUDA_ROWS = 512

Item = TypeVar("Item")
Result = TypeVar("Result")


def resolve_grad_batch(value: int | str, victim) -> int:
    if value != "auto":
        return int(value)
    return CUDA_ROWS if victim.device.type == "cuda" else CPU_ROWS


class GradBatches:
    """`map(items, compute)`: `compute` on batches of items of one token count, at most `size` each; the
    results in the items' order."""

    def __init__(self, victim, size: int):
        self.victim, self.size = victim, int(size)

    def map(self, items: Sequence[Item], sequence: Callable[[Item], str],
            compute: Callable[[list[Item]], list[Result]]) -> list[Result]:
        out: list = [None] * len(items)
        todo = list(range(len(items)))
        while todo:
            groups = same_length_batches(self.victim, [sequence(items[i]) for i in todo], self.size)
            done: set[int] = set()
            try:
                for group in groups:
                    idx = [todo[j] for j in group]
                    for i, result in zip(idx, compute([items[i] for i in idx])):
                        out[i] = result
                    done.update(idx)
            except torch.OutOfMemoryError:
                if self.size == 1:
                    raise
                torch.cuda.empty_cache()
                self.size //= 2
                todo = [i for i in todo if i not in done]
                continue
            todo = []
        return out
