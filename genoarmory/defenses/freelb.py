"""FreeLB (Zhu et al., ICLR 2020): adversarial training in the input-embedding space.

Each step starts from a random perturbation delta of the token embeddings (uniform in [-1, 1] times
init_mag / sqrt(tokens * dim), as FreeLB's code), takes `adv_steps` ascent steps delta += adv_lr * g / ||g||, and trains
on the mean loss over all of them ("free" large batch). Settings as the paper / GenoArmory: adv_lr 0.1,
init_mag 0.6, 2 steps, L2 norm unbounded (`adv_max_norm: 0`; > 0 projects delta back onto that ball).

It is a loss function for the shared loop: the K perturbed losses stay in one graph (each delta is
detached), so the loop's single backward gives the same parameter gradient that FreeLB accumulates
over its K backward passes. It starts from the fine-tuned clean model.
"""

from __future__ import annotations

import time

import torch

from genoarmory.defenses.common import Defended, DefenseContext, clean_examples, train_config
from genoarmory.errors import UserError
from genoarmory.models.forward import forward_from_embeddings
from genoarmory.models.training import fine_tune


def initial_delta(embeds: torch.Tensor, mask: torch.Tensor, init_mag: float) -> torch.Tensor:
    """Uniform noise on real tokens, scaled by init_mag / sqrt(tokens * dim) as FreeLB's code does."""
    mask = mask.unsqueeze(-1).to(embeds.dtype)
    if init_mag <= 0:
        return torch.zeros_like(embeds)
    delta = torch.empty_like(embeds).uniform_(-1, 1) * mask
    dims = mask.sum(dim=(1, 2)) * embeds.shape[-1]
    return (delta * (init_mag / dims.sqrt()).view(-1, 1, 1)).detach()


def ascend(delta: torch.Tensor, grad: torch.Tensor, adv_lr: float, max_norm: float) -> torch.Tensor:
    """One normalised L2 ascent step; with max_norm > 0, rows above it are scaled back onto the ball."""
    norm = grad.flatten(1).norm(dim=1).clamp_min(1e-8).view(-1, 1, 1)
    delta = delta + adv_lr * grad / norm
    if max_norm > 0:
        size = delta.flatten(1).norm(dim=1).view(-1, 1, 1)
        delta = delta * torch.where(size > max_norm, max_norm / size.clamp_min(1e-12), torch.ones_like(size))
    return delta.detach()


def freelb_loss(adv_steps: int = 2, adv_lr: float = 0.1, init_mag: float = 0.6, max_norm: float = 0.0):
    def loss(model, batch, labels):
        mask, ids = batch["attention_mask"], batch["input_ids"]
        embeds = model.get_input_embeddings()(ids)
        delta, total = initial_delta(embeds, mask, init_mag), 0.0
        for step in range(adv_steps):
            delta.requires_grad_()
            logits = forward_from_embeddings(model, embeds + delta, ids, mask)  # the model's own embedding path
            step_loss = torch.nn.functional.cross_entropy(logits, labels) / adv_steps
            total = total + step_loss
            if step + 1 < adv_steps:
                grad, = torch.autograd.grad(step_loss, delta, retain_graph=True)
                delta = ascend(delta, grad * mask.unsqueeze(-1), adv_lr, max_norm)
        return total

    return loss


def train(ctx: DefenseContext) -> Defended:
    d = ctx.cfg.defense
    if not isinstance(ctx.model.get_input_embeddings(), torch.nn.Embedding):
        raise UserError(f"FreeLB perturbs input embeddings, but {type(ctx.model).__name__} has no input-embedding "
                        "layer; use defense=at or defense=adfar for this model")
    if int(d.adv_steps) < 1:
        raise UserError(f"defense.adv_steps={d.adv_steps} must be at least 1")
    loss_fn = freelb_loss(int(d.adv_steps), float(d.adv_lr), float(d.init_mag), float(d.adv_max_norm or 0))
    started = time.perf_counter()
    clean = clean_examples(ctx)
    history = fine_tune(ctx.model, ctx.encoder, clean, train_config(ctx.cfg), ctx.device, ctx.seed, dev=ctx.dev,
                        loss_fn=loss_fn, desc="FreeLB", progress=ctx.progress)
    return Defended(ctx.model, {"clean": len(clean), **history,
                                "train_seconds": round(time.perf_counter() - started, 2)})
