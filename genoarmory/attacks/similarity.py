"""TextFooler's semantic-similarity filter, with the victim's own encoder standing in for USE.

A candidate is kept when the mean hidden state of the victim's encoder over a window of tokens around
the edit stays within cosine `threshold` of the original's, over the same window. The window is centred
on the original's token holding the newest edit and clipped to each sequence's own tokens (never its
padding). These encoder passes are the filter's own cost, like USE's in TextFooler, and are not counted
as victim queries.

`many` answers the requests of every search in flight at once (the engine asks it so): one batched
encoder pass over all their candidates and new originals, all windows in a few tensor operations, one
copy of the verdicts back to the host.

On a victim whose queries run in bf16 (CUDA), the filter's pass over a candidate is the query's pass: the
victim's query model gives its logits and its encoder's states at once (Victim.logits_and_states), and the
probabilities of the candidates kept go to `Victim.score_ahead`, so scoring them at the search's next step
costs no second pass (each is counted as a query when it is asked for, as before). Without this every
candidate went through the encoder twice, which held TextFooler near half of the forward ceiling (on an
H200 the filter took 3.5 of NT v2's 6.6 s, RESULTS.md run 9). Successes are still decided by the float32
pass; float32 victims (CPU) keep two passes, so their records are unchanged.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch

from genoarmory.attacks.search import FilterRequest
from genoarmory.models.forward import last_hidden_states

ORIGINALS_KEPT = 1024  # reference hidden states kept (the examples in flight need only theirs)


class EncoderSimilarity:
    def __init__(self, victim, window: int = 15, threshold: float = 0.7):
        self.victim, self.half, self.threshold = victim, int(window) // 2, float(threshold)
        # the filter's pass doubles as the kept candidates' query pass (module note)
        self.scores_kept = bool(getattr(victim, "reduced_precision", False)) and hasattr(victim, "score_ahead")
        self._refs: OrderedDict[str, tuple[torch.Tensor, np.ndarray]] = OrderedDict()

    def __call__(self, original: str, candidates: list[str], edit_lists: list[list]) -> np.ndarray:
        return self.many([FilterRequest(self, original, candidates, edit_lists)])[0]

    @torch.inference_mode()
    def many(self, requests) -> list[np.ndarray]:
        """One boolean mask per `FilterRequest` (candidates kept)."""
        new = [s for s in dict.fromkeys(r.original for r in requests) if s not in self._refs]
        if new:
            for original, state in zip(new, (row for chunk in self._states(new) for row in _rows(chunk))):
                self._refs[original] = (*state, self._token_of_position(original))
            while len(self._refs) > ORIGINALS_KEPT:
                self._refs.popitem(last=False)
        sizes = [len(r.candidates) for r in requests]
        if not sum(sizes):
            return [np.zeros(0, dtype=bool) for _ in requests]
        device = self.victim.device
        refs = [self._refs[r.original] for r in requests]
        centers = torch.as_tensor(np.concatenate([
            ref[3][[edits[-1][0] for edits in r.edit_lists]] for r, ref in zip(requests, refs)]), device=device)
        stacked = _Chunk(torch.nn.utils.rnn.pad_sequence([ref[0] for ref in refs], batch_first=True),
                         torch.stack([ref[1] for ref in refs]), torch.stack([ref[2] for ref in refs]))
        which = torch.as_tensor(np.repeat(np.arange(len(requests)), sizes), device=device)
        ref_means = self._window_means(stacked, centers, which)
        cand_means, done = [], 0
        candidates = [c for r in requests for c in r.candidates]
        scores = [] if self.scores_kept else None
        for chunk in self._states(candidates, scores):
            n = len(chunk.start)
            cand_means.append(self._window_means(chunk, centers[done:done + n]))
            done += n
        sims = torch.nn.functional.cosine_similarity(ref_means, torch.cat(cand_means), dim=-1)
        keep = (sims >= self.threshold).cpu().numpy()
        if scores is not None and keep.any():
            kept = np.flatnonzero(keep)
            probs = torch.cat(scores)[torch.as_tensor(kept, device=device)].cpu().numpy()
            self.victim.score_ahead([candidates[i] for i in kept], probs)
        return np.split(keep, np.cumsum(sizes)[:-1])

    def _token_of_position(self, original: str) -> np.ndarray:
        """nucleotide position -> index of the first token covering it (0 when none does)."""
        spans = self.victim.token_spans(original)
        owner = np.zeros(len(original), dtype=np.int64)
        for t in range(len(spans) - 1, -1, -1):
            if spans[t]:
                owner[spans[t][0]:spans[t][1]] = t
        return owner

    def _states(self, sequences: list[str], scores: list | None = None):
        """Last hidden states, float32, a padded chunk at a time (no host-device synchronisation). With
        `scores_kept` they come from the victim's query pass, whose probabilities are appended to `scores`
        (originals: discarded)."""
        for chunk in self.victim.batches(sequences):
            if self.scores_kept:
                logits, states, batch = self.victim.logits_and_states(chunk)
                states = states.float()
                if scores is not None:
                    scores.append(torch.softmax(logits.float(), dim=-1))
            else:
                batch = self.victim.encoder.encode(chunk, self.victim.device)
                with self.victim._autocast():
                    states = last_hidden_states(self.victim.model, batch).float()
            mask = batch["attention_mask"]
            # each row's first real token (leading padding when padded left) and its token count
            yield _Chunk(states, (mask.cumsum(1) == 0).sum(1), mask.sum(1))

    def _window_means(self, chunk: "_Chunk", centers: torch.Tensor, which: torch.Tensor | None = None):
        """Mean of token rows max(0, c - half) .. min(length, c + half + 1) of each sequence: [n, d].
        `which`: the chunk row each centre belongs to (default: row i for centre i)."""
        if which is None:
            which = torch.arange(len(centers), device=centers.device)
        tokens = centers[:, None] + torch.arange(-self.half, self.half + 1, device=centers.device)[None, :]
        valid = (tokens >= 0) & (tokens < chunk.length[which][:, None])
        index = (chunk.start[which][:, None] + tokens).clamp(0, chunk.states.shape[1] - 1)
        rows = chunk.states[which[:, None], index]
        weights = valid.to(rows.dtype)[..., None]
        return (rows * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class _Chunk:
    """Padded hidden states [b, W, d] of a batch, with each row's first real token and token count."""

    def __init__(self, states: torch.Tensor, start: torch.Tensor, length: torch.Tensor):
        self.states, self.start, self.length = states, start, length


def _rows(chunk: _Chunk):
    """Each row on its own (copies: a kept reference must not hold its whole batch's memory)."""
    for i in range(len(chunk.start)):
        yield chunk.states[i].clone(), chunk.start[i].clone(), chunk.length[i].clone()
