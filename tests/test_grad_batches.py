"""Gradient attacks' batching (attacks/grad_batches.py): `auto` by device, and the out-of-memory back-off
that must give the same results, in the same order, as a run that never ran out of memory."""

from types import SimpleNamespace

import pytest
import torch

from genoarmory.attacks.grad_batches import CPU_ROWS, CUDA_ROWS, GradBatches, resolve_grad_batch


class CharVictim:
    """token_spans: one token per base, so a sequence's token count is its length."""

    def __init__(self, device="cpu"):
        self.device = torch.device(device)

    def token_spans(self, seq):
        return [(i, i + 1) for i in range(len(seq))]


def test_auto_is_32_on_cpu_and_512_on_cuda_and_a_number_is_kept():
    assert resolve_grad_batch("auto", CharVictim()) == CPU_ROWS == 32
    assert resolve_grad_batch("auto", SimpleNamespace(device=torch.device("cuda"))) == CUDA_ROWS == 512
    assert resolve_grad_batch(7, CharVictim()) == 7


def test_out_of_memory_halves_the_size_and_keeps_every_result_in_order():
    items = [("A" * (3 + i % 3)) + str(i) for i in range(23)]  # three token counts, 23 items
    calls = []

    def compute(batch, limit):
        calls.append(len(batch))
        if len(batch) > limit:
            raise torch.OutOfMemoryError("simulated")
        assert len({len(x) for x in batch}) == 1  # one token count per batch: no padding
        return [x.lower() for x in batch]

    plain = GradBatches(CharVictim(), 8).map(items, lambda x: x, lambda b: compute(b, 99))
    calls.clear()
    backed = GradBatches(CharVictim(), 8)
    assert backed.map(items, lambda x: x, lambda b: compute(b, 2)) == plain == [x.lower() for x in items]
    assert backed.size == 2 and max(c for c in calls if c <= 2) == 2


def test_out_of_memory_at_one_row_is_raised():
    def always(batch):
        raise torch.OutOfMemoryError("simulated")

    with pytest.raises(torch.OutOfMemoryError):
        GradBatches(CharVictim(), 4).map(["AC", "GT"], lambda x: x, always)
