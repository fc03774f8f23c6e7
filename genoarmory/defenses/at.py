"""Adversarial training (AT) with adversarial examples it makes itself.

The GenoArmory paper's package trained on adversarial data it never generated; here the chosen attack
(the same recipe, budget and engine as the evaluation) attacks a seeded subset of the TRAINING split
(`defense.n_adversarial`), every success keeps its true label, and the clean model is fine-tuned on
clean + adversarial examples — data augmentation as in TextFooler's and TextAttack's adversarial
training. The evaluation examples come from the test split and are never attacked for training.

`defense.regenerate_every=N`: training runs in rounds of N epochs, and before each round the current
model is attacked again, so later rounds train on the examples that fool the model being trained.
Each round is one call of the shared loop (its own warm-up and decay), records in at-train/round-<r>/.
"""

from __future__ import annotations

import time

from omegaconf import OmegaConf

from genoarmory.defenses.common import Defended, DefenseContext, adversarial_examples, clean_examples, train_config
from genoarmory.models.training import fine_tune


def train(ctx: DefenseContext) -> Defended:
    d, tcfg = ctx.cfg.defense, train_config(ctx.cfg)
    epochs = int(tcfg.epochs)
    every = int(d.get("regenerate_every") or epochs)
    clean = clean_examples(ctx)
    started, done, rounds = time.perf_counter(), 0, []
    while done < epochs:
        r = len(rounds) + 1
        out = ctx.run_dir / "at-train" / (f"round-{r}" if every < epochs else "")
        adversarial, stats = adversarial_examples(ctx, ctx.model, out, fresh=r > 1)
        n = min(every, epochs - done)
        history = fine_tune(ctx.model, ctx.encoder, clean + adversarial, OmegaConf.merge(tcfg, {"epochs": n}),
                            ctx.device, ctx.seed + r - 1, dev=ctx.dev, desc=f"AT round {r}", progress=ctx.progress)
        rounds.append({"round": r, "epochs": n, "clean": len(clean), **stats, **history})
        done += n
    return Defended(ctx.model, {"rounds": rounds, "train_seconds": round(time.perf_counter() - started, 2)})
