"""TextFooler's semantic-similarity filter, with the victim's own encoder standing in for USE.

A candidate is kept when the mean hidden state of the victim's encoder over a window of tokens around
the edit stays within cosine `threshold` of the original's. These encoder passes are the filter's own
cost, like USE's in TextFooler, and are not counted as victim queries.
"""

from __future__ import annotations

import numpy as np
import torch


class EncoderSimilarity:
    def __init__(self, victim, window: int = 15, threshold: float = 0.7):
        self.victim, self.half, self.threshold = victim, int(window) // 2, float(threshold)
        self._original: tuple[str, torch.Tensor, list] | None = None

    @torch.inference_mode()
    def _hidden(self, sequences: list[str]) -> torch.Tensor:
        outs = []
        for chunk in self.victim.batches(sequences):
            batch = self.victim.encoder.encode(chunk, self.victim.device)
            with self.victim._autocast():
                outs.append(self.victim.model.base_model(**batch).last_hidden_state.float())
        width = max(o.shape[1] for o in outs)
        return torch.cat([torch.nn.functional.pad(o, (0, 0, 0, width - o.shape[1])) for o in outs])

    def _window(self, hidden: torch.Tensor, center: int) -> torch.Tensor:
        lo, hi = max(0, center - self.half), min(hidden.shape[0], center + self.half + 1)
        return hidden[lo:hi].mean(0)

    def __call__(self, original: str, candidates: list[str], edit_lists: list[list]) -> np.ndarray:
        if self._original is None or self._original[0] != original:
            spans = self.victim.token_spans(original)
            self._original = (original, self._hidden([original])[0], spans)
        _, ref, spans = self._original
        hidden = self._hidden(candidates)
        keep = np.zeros(len(candidates), dtype=bool)
        for i, edits in enumerate(edit_lists):
            pos = edits[-1][0]  # the newest edit
            center = next((t for t, s in enumerate(spans) if s and s[0] <= pos < s[1]), 0)
            sim = torch.nn.functional.cosine_similarity(self._window(ref, center), self._window(hidden[i], center), dim=0)
            keep[i] = float(sim) >= self.threshold
        return keep
