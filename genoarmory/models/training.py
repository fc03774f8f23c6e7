"""The one fine-tuning loop: `train`, the tiny models' MLM warm-up and every defense run through it.

A defense changes only the loss of a step (`loss_fn`) or the examples it trains on — never the loop.
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
from transformers import get_linear_schedule_with_warmup

from genoarmory.data.example import Example
from genoarmory.metrics.compute import classification_metrics
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.forward import accepted_inputs  # HyenaDNA's forward takes no attention_mask
from genoarmory.progress import progress as progress_bar

LossFn = Callable[[torch.nn.Module, dict, torch.Tensor], torch.Tensor]


def classification_loss(model: torch.nn.Module, batch: dict, labels: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(model(**accepted_inputs(model, batch)).logits, labels)


def evaluate(model: torch.nn.Module, encoder: SequenceEncoder, examples: list[Example],
             device: torch.device, batch_size: int = 256) -> dict:
    """accuracy / macro-F1 / MCC / n_test of `model` on `examples` (no cache, eval mode)."""
    was_training = model.training
    model.eval()
    preds = []
    with torch.no_grad():  # not inference_mode: the model trains on afterwards (see Victim._launch)
        for i in range(0, len(examples), batch_size):
            batch = encoder.encode([e.sequence for e in examples[i:i + batch_size]], device)
            preds.extend(model(**accepted_inputs(model, batch)).logits.argmax(-1).tolist())
    model.train(was_training)
    return classification_metrics([e.label for e in examples], preds)


def fine_tune(model: torch.nn.Module, encoder: SequenceEncoder, train: list[Example], tcfg,
              device: torch.device, seed: int, dev: list[Example] | None = None,
              loss_fn: LossFn = classification_loss, desc: str = "train", progress: bool = True) -> dict:
    """Train `model` in place; keep the weights of the best dev MCC (last epoch when no dev set).

    `tcfg` needs epochs, batch_size, lr, weight_decay, warmup_ratio, eval_every.
    Returns {"history": [...per-epoch dev metrics...], "best_epoch": int}.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device).train()
    steps_per_epoch = max(1, -(-len(train) // int(tcfg.batch_size)))
    total = steps_per_epoch * int(tcfg.epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=float(tcfg.lr), weight_decay=float(tcfg.weight_decay))
    schedule = get_linear_schedule_with_warmup(optimizer, int(total * float(tcfg.warmup_ratio)), total)
    history, best, best_state, best_epoch = [], -np.inf, None, int(tcfg.epochs)
    bar = progress_bar(total, desc, progress)
    for epoch in range(1, int(tcfg.epochs) + 1):
        order = rng.permutation(len(train))
        for step in range(steps_per_epoch):
            chunk = [train[i] for i in order[step * int(tcfg.batch_size):(step + 1) * int(tcfg.batch_size)]]
            batch = encoder.encode([e.sequence for e in chunk], device)
            labels = torch.tensor([e.label for e in chunk], device=device)
            loss = loss_fn(model, batch, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
        if dev and (epoch % int(tcfg.eval_every) == 0 or epoch == int(tcfg.epochs)):
            metrics = {"epoch": epoch, **evaluate(model, encoder, dev, device)}
            history.append(metrics)
            if metrics["mcc"] > best:
                best, best_epoch = metrics["mcc"], epoch
                best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return {"history": history, "best_epoch": best_epoch}
