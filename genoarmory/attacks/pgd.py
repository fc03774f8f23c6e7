"""Projected gradient descent on input embeddings (Madry et al. 2018), as torchattacks' PGD / PGDL2.

Differences from the GenoArmory paper's code, on purpose: the model stays in eval mode (its code left
dropout on, so gradients and the final check were noisy), embeddings are never clamped to [0, 1] (they
are not pixels; the clamp moved every embedding before the attack began), and only the rows of DNA
tokens the threat model lets us edit are perturbed (never [CLS]/[SEP]/padding or protected spans).
Each example's norm ball is its own: norms are per example, over all its perturbed rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genoarmory.attacks.embedding_batch import EmbeddedBatch


@dataclass(frozen=True)
class PGDSettings:
    norm: str = "l2"          # l2 | linf
    eps: float = 0.5
    step: float = 0.1
    iters: int = 10
    random_start: bool = False


def _norms(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1)


def _random_start(batch: EmbeddedBatch, s: PGDSettings, seeds: list[int]) -> torch.Tensor:
    """Per-example noise drawn from the example's own seed over its own tokens, so neither the batch's
    composition nor its padding changes it."""
    noise, radius = torch.zeros(batch.embeds.shape), torch.ones(len(seeds), 1, 1)
    for i, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(seed)
        real = batch.attention_mask[i].nonzero().flatten().cpu()
        noise[i, real] = torch.empty(len(real), noise.shape[-1]).uniform_(-1, 1, generator=gen)
        radius[i] = torch.rand(1, generator=gen)
    noise = noise.to(batch.embeds.device) * batch.editable
    if s.norm == "linf":
        return noise * s.eps
    return noise / _norms(noise) * radius.to(noise.device) * s.eps


def pgd_delta(victim, batch: EmbeddedBatch, classes: torch.Tensor, signs: torch.Tensor, s: PGDSettings,
              seeds: list[int]) -> torch.Tensor:
    """The perturbation after `s.iters` steps. Ascends sign * cross-entropy(class): sign +1 leaves the
    true label (untargeted), -1 approaches a target label (targeted)."""
    if s.norm not in ("l2", "linf"):
        raise ValueError(f"unknown PGD norm {s.norm!r}")
    victim.model.eval()
    mask = batch.editable
    delta = _random_start(batch, s, seeds) if s.random_start else torch.zeros_like(batch.embeds)
    for _ in range(s.iters):
        delta.requires_grad_(True)
        with torch.enable_grad():
            logits = victim.forward_from_embeddings(batch.embeds + delta, batch.attention_mask, batch.input_ids).float()
            losses = torch.nn.functional.cross_entropy(logits, classes, reduction="none")
            (grad,) = torch.autograd.grad((signs * losses).sum(), delta)
        grad = grad * mask
        with torch.no_grad():
            if s.norm == "l2":
                delta = delta + s.step * grad / _norms(grad)
                delta = delta * (s.eps / _norms(delta)).clamp(max=1.0)
            else:
                delta = (delta + s.step * grad.sign()).clamp(-s.eps, s.eps)
            delta = (delta * mask).detach()
    return delta
