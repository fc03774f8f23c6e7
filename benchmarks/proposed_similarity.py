"""A proposed drop-in for `genoarmory.attacks.similarity.EncoderSimilarity` (not used by the product).

The shipped filter computes each candidate's window cosine with a handful of small tensor operations and a
`float()` per candidate: on CUDA that is a host-device synchronisation per candidate, and the original's
window is recomputed for every candidate. This version computes all windows of a call at once (one gather,
one masked mean, one cosine) and copies one boolean vector back. Same rule, same windows (the padded width
of the candidates' batch bounds them, as in the shipped code); results equal up to float rounding of the
means. benchmarks/gpu_attack.py measures it as attack `textfooler-vectorised` beside the shipped one.
"""

from __future__ import annotations

import numpy as np
import torch

from genoarmory.attacks.similarity import EncoderSimilarity


class VectorisedEncoderSimilarity(EncoderSimilarity):
    def _window_means(self, hidden: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
        """hidden [n, W, d] (or [W, d] shared by all), centers [n] -> mean of rows max(0, c-h) .. min(W, c+h+1)."""
        width = hidden.shape[-2]
        offsets = torch.arange(-self.half, self.half + 1, device=hidden.device)
        index = centers[:, None] + offsets[None, :]
        valid = (index >= 0) & (index < width)
        index = index.clamp(0, width - 1)
        if hidden.dim() == 2:
            rows = hidden[index]
        else:
            rows = torch.gather(hidden, 1, index[..., None].expand(-1, -1, hidden.shape[-1]))
        weights = valid.to(hidden.dtype)[..., None]
        return (rows * weights).sum(1) / weights.sum(1)

    @torch.inference_mode()
    def __call__(self, original: str, candidates: list[str], edit_lists: list[list]) -> np.ndarray:
        if self._original is None or self._original[0] != original:
            spans = self.victim.token_spans(original)
            owner = np.full(len(original), 0, dtype=np.int64)  # nucleotide -> token index (0 if none)
            for t in range(len(spans) - 1, -1, -1):  # the first token covering a position wins, as `next(...)`
                if spans[t]:
                    owner[spans[t][0]:spans[t][1]] = t
            self._original = (original, self._hidden([original])[0], owner)
        _, ref, owner = self._original
        hidden = self._hidden(candidates)
        centers = torch.as_tensor(owner[[edits[-1][0] for edits in edit_lists]], device=hidden.device)
        sims = torch.nn.functional.cosine_similarity(self._window_means(ref, centers),
                                                     self._window_means(hidden, centers), dim=-1)
        return (sims >= self.threshold).cpu().numpy()
