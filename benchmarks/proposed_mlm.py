"""A proposed `prepare_many` for `genoarmory.attacks.transformations.MLMProposals` (not used by the product).

BERT-Attack's candidates come from one masked-LM pass over each original. The shipped `prepare` runs that
pass per example, batch 1, and waits for it: on a GPU that is hundreds of tiny kernel launches and a host-
device synchronisation per example, queued behind the victim's own work. The engine (attacks/engine.py)
calls `transformation.prepare_many(originals)` for the examples about to start when the transformation has
one; this subclass answers it with one padded pass per 64 originals and serves `prepare` from the result.
Same tables (the MLM runs in float32 as shipped; padding changes logits only by rounding). The table-building
loop repeats `MLMProposals.prepare`'s, which a real change would factor out. Measured by
benchmarks/gpu_attack.py as variant `batched-mlm`.
"""

from __future__ import annotations

import numpy as np
import torch

from genoarmory.attacks.transformations import MLMProposals, _TokenTable


class BatchedMLMProposals(MLMProposals):
    def __init__(self, shipped: MLMProposals, chunk: int = 64):
        self.__dict__.update(shipped.__dict__)  # same MLM, encoder, k, device, vocabulary
        self.chunk = chunk
        self._ready: dict[str, _TokenTable] = {}

    @torch.inference_mode()
    def prepare_many(self, originals: list[str]) -> None:
        todo = [s for s in dict.fromkeys(originals) if s not in self._ready]
        for i in range(0, len(todo), self.chunk):
            part = todo[i:i + self.chunk]
            logits = self.mlm(**self.encoder.encode(part, self.device)).logits.float()
            top = logits.topk(min(self.k * 4, logits.shape[-1]), dim=-1).indices.cpu().numpy()
            for seq, rows in zip(part, top):
                self._ready[seq] = self._table(seq, rows)

    def prepare(self, original, rng):
        table = self._ready.pop(original, None)
        return table if table is not None else super().prepare(original, rng)

    def _table(self, original: str, top: np.ndarray) -> _TokenTable:
        spans = self.encoder.token_spans(original)
        kept_spans, reps = [], []
        for t, span in enumerate(spans):
            if span is None:
                continue
            width, options = span[1] - span[0], []
            for tid in top[t]:
                text = self.token_text[tid]
                if text is not None and len(text) == width and text != original[span[0]:span[1]]:
                    options.append(text)
                if len(options) == self.k:
                    break
            kept_spans.append(span)
            reps.append(options)
        return _TokenTable(kept_spans, reps)
