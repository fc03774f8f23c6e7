"""Per-nucleotide importance from a real attribution method (captum) on the victim's input embeddings.

- integrated_gradients (Sundararajan et al. 2017): path from a baseline where every DNA token's
  embedding is the pad token's (captum's BERT recipe), special tokens unchanged; 50 steps.
- input_x_gradient: gradient x input, one backward pass.
- gradient_shap (expected gradients, Lundberg & Lee 2017): baselines are copies of the sequence whose
  DNA tokens are redrawn uniformly among tokens of the same nucleotide length (a random-DNA background).
A token's attribution (summed over embedding dimensions) is spread evenly over the nucleotides it
covers, so overlapping k-mers, BPE and single-nucleotide tokens all yield one score per nucleotide.
Attributions are for the probability of the class the goal moves away from (or towards, negated).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch

from genoarmory.attacks.embedding_batch import EmbeddedBatch, embed_batch
from genoarmory.attacks.grad_batches import GradBatches, resolve_grad_batch
from genoarmory.attacks.realise import DnaVocabulary

METHODS = ("integrated_gradients", "input_x_gradient", "gradient_shap")


@dataclass
class AttributionItem:
    sequence: str
    target: int   # class whose probability is attributed
    sign: float   # +1: evidence for it is what to destroy (untargeted); -1: targeted


class NucleotideAttribution:
    """compute(items) for `Gathered`: one importance array per sequence (higher = attack first)."""

    def __init__(self, victim, method: str = "integrated_gradients", steps: int = 50,
                 batch_size: int | str = "auto", seed: int = 0):
        if method not in METHODS:
            raise ValueError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}")
        self.victim, self.method, self.steps, self.seed = victim, method, int(steps), seed
        self.batches = GradBatches(victim, resolve_grad_batch(batch_size, victim))
        self.vocab = DnaVocabulary(victim.input_embeddings().weight, victim.encoder.tokenizer)

    @property
    def gradient_passes(self) -> int:
        return 1 if self.method == "input_x_gradient" else self.steps

    def _forward(self, embeds: torch.Tensor, attention_mask: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.victim.forward_from_embeddings(embeds, attention_mask, input_ids).float(), dim=-1)

    def __call__(self, items: list[AttributionItem]) -> list[np.ndarray]:
        return self.batches.map(items, lambda it: it.sequence, self._chunk)

    def _chunk(self, items: list[AttributionItem]) -> list[np.ndarray]:
        from captum.attr import InputXGradient, IntegratedGradients

        self.victim.model.eval()
        batch = embed_batch(self.victim, [it.sequence for it in items], [set() for _ in items])
        targets = [it.target for it in items]
        inputs = batch.embeds.clone().requires_grad_(True)
        with torch.enable_grad():
            if self.method == "integrated_gradients":
                pad = self.victim.input_embeddings().weight[self.victim.encoder.pad_id].detach()
                baseline = torch.where(batch.editable > 0, pad, batch.embeds)
                attr = IntegratedGradients(self._forward).attribute(
                    inputs, baselines=baseline, target=targets,
                    additional_forward_args=(batch.attention_mask, batch.input_ids), n_steps=self.steps, internal_batch_size=self.batches.size)  # rows per backward pass
            elif self.method == "input_x_gradient":
                attr = InputXGradient(self._forward).attribute(
                    inputs, target=targets, additional_forward_args=(batch.attention_mask, batch.input_ids))
            else:  # per example: each needs its own background of random DNA
                attr = torch.cat([self._shap(batch, i, it) for i, it in enumerate(items)])
        per_row = attr.detach().sum(-1).cpu()
        return [self._to_nucleotides(batch, i, per_row[i], it) for i, it in enumerate(items)]

    def _shap(self, batch: EmbeddedBatch, i: int, item: AttributionItem, background: int = 16) -> torch.Tensor:
        from captum.attr import GradientShap

        seed = zlib.crc32(item.sequence.encode()) + self.seed  # randomness of this example only
        gen = np.random.default_rng(seed)
        baselines = batch.embeds[i:i + 1].repeat(background, 1, 1)
        for row, (a, b) in batch.rows[i]:
            texts, table = self.vocab.groups[b - a]
            baselines[:, row] = table[gen.integers(len(texts), size=background)].to(baselines.device)
        # captum draws its samples from numpy's and torch's global generators: seed both, then restore them
        numpy_state = np.random.get_state()
        try:
            with torch.random.fork_rng(devices=[]):
                np.random.seed(seed % 2**32)
                torch.manual_seed(seed)
                return GradientShap(self._forward).attribute(
                    batch.embeds[i:i + 1].clone().requires_grad_(True), baselines=baselines, n_samples=self.steps,
                    target=item.target,
                    additional_forward_args=(batch.attention_mask[i:i + 1], batch.input_ids[i:i + 1]))
        finally:
            np.random.set_state(numpy_state)

    @staticmethod
    def _to_nucleotides(batch: EmbeddedBatch, i: int, per_row: torch.Tensor, item: AttributionItem) -> np.ndarray:
        scores = np.zeros(len(item.sequence))
        for row, (a, b) in batch.rows[i]:
            scores[a:b] += float(per_row[row]) / (b - a)
        return item.sign * scores
