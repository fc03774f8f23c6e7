"""Randomized smoothing over substitutions: `defense=smoothing`, the smoothed victim, and its certificate.

The smoothed classifier answers with the majority vote of the base classifier over noisy copies of the
input (every base replaced with probability `defense.noise` by one of the other three:
sequence.substitution_noise). `defend defense=smoothing` fine-tunes the clean classifier on clean + noisy
copies of its training examples (`defense.augment` per example: the base classifier must be accurate under
the noise it votes under), saves it with `smoothing.json`, and load_victim then wraps any load of that
folder in `SmoothedVictim`, attacked like every victim. `certify` (api/run_certify.py) bounds the vote
and reports certified accuracy (certificate.py).

`SmoothedVictim` answers each query with vote fractions over `defense.votes` noisy copies, drawn from a
generator seeded by the sequence itself, so the same sequence always gets the same answer (the engine's
cache and self-check rely on that) while different sequences get independent noise. Its probabilities are
vote fractions, an estimate of the smoothed classifier; only `certify` gives a guarantee. Gradient
attacks have no gradient through a vote and are refused.
"""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import numpy as np
import torch

from genoarmory.data import Example
from genoarmory.defenses.common import Defended, DefenseContext, clean_examples, train_config
from genoarmory.errors import UserError
from genoarmory.models.training import fine_tune
from genoarmory.models.victim import Victim
from genoarmory.models.wrappers import register_victim_wrapper, write_wrapper_file
from genoarmory.sequence import substitution_noise

WRAPPER = "smoothing"
SETTINGS_FILE = "smoothing.json"
VOTE_STREAM, SELECT_STREAM, ESTIMATE_STREAM, TRAIN_STREAM = 0, 1, 2, 3  # independent noise per use


def noise_rng(seed: int, sequence: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(sequence.encode()), len(sequence), stream])


class SmoothedVictim(Victim):
    def __init__(self, base: Victim, noise: float, votes: int, seed: int):
        super().__init__(base.model, base.encoder, base.name, base.device, base.batch_size,
                         {**base.info, "smoothing": {"noise": noise, "votes": votes, "seed": seed}})
        self.noise, self.votes, self.seed = float(noise), int(votes), int(seed)
        self.compiled = base.compiled  # model.compile's forward, when the base victim has one
        self.inner_batch = self.batch_size  # the base classifier's batch; a query holds `votes` of its rows
        self.batch_size = max(1, self.batch_size // self.votes)

    def base_predictions(self, sequences: list[str], copies: int, stream: int, exact: bool = False) -> torch.Tensor:
        """[len(sequences), copies] classes the base classifier gives noisy copies (batched, on the device)."""
        noisy = [c for s in sequences
                 for c in substitution_noise(s, self.noise, copies, noise_rng(self.seed, s, stream))]
        preds = [super(SmoothedVictim, self).logits(noisy[i:i + self.inner_batch], exact).argmax(-1)
                 for i in range(0, len(noisy), self.inner_batch)]
        return torch.cat(preds).reshape(len(sequences), copies)

    def plain(self) -> Victim:
        """The base classifier as an unsmoothed victim."""
        info = {k: v for k, v in self.info.items() if k != "smoothing"}
        out = Victim(self.model, self.encoder, self.name, self.device, self.inner_batch, info)
        out.compiled = self.compiled
        return out

    def logits(self, sequences: list[str], exact: bool = False) -> torch.Tensor:
        """log of the vote fractions (`submit`'s softmax of them gives the fractions back)."""
        preds = self.base_predictions(list(sequences), self.votes, VOTE_STREAM, exact)
        counts = torch.nn.functional.one_hot(preds, self.num_labels).sum(1).float()
        return torch.log(counts / self.votes)

    def embed(self, sequences):
        raise UserError("a smoothed victim answers by a vote over noisy copies, which has no gradient: attack it "
                        "with a query attack (bertattack, textfooler, random, textattack)")

    forward_from_embeddings = embed


def smoothed(victim: Victim, noise: float, votes: int, seed: int) -> SmoothedVictim:
    if not 0.0 < noise < 0.75:
        raise UserError(f"defense.noise={noise}: expected 0 < noise < 0.75 (at 0.75 a base is as likely to be "
                        "any base: the noise would carry no signal)")
    return SmoothedVictim(victim, noise, votes, seed)


def saved_settings(folder: Path) -> dict | None:
    path = Path(folder) / SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        settings = json.loads(path.read_text())
        return {"noise": float(settings["noise"]), "votes": int(settings["votes"]), "seed": int(settings["seed"])}
    except (ValueError, KeyError, TypeError):
        raise UserError(f"broken {SETTINGS_FILE} (needs noise, votes, seed)", str(path)) from None


def wrap_saved(victim: Victim, folder: Path) -> SmoothedVictim:
    settings = saved_settings(folder)
    if settings is None:
        raise UserError(f"the folder names the smoothing wrapper but has no {SETTINGS_FILE}", str(folder))
    return smoothed(victim, **settings)


register_victim_wrapper(WRAPPER, wrap_saved)


def noisy_training_copies(examples: list[Example], noise: float, copies: int, seed: int) -> list[Example]:
    out = []
    for e in examples:
        for j, seq in enumerate(substitution_noise(e.sequence, noise, copies, noise_rng(seed, e.sequence, TRAIN_STREAM))):
            out.append(Example(f"{e.id}/noise{j}", seq, e.label, {"noisy_copy_of": e.id}))
    return out


def train(ctx: DefenseContext) -> Defended:
    """Fine-tune under the smoothing noise; the saved folder is loaded back as the smoothed victim."""
    d, tcfg = ctx.cfg.defense, train_config(ctx.cfg)
    started = time.perf_counter()
    clean = clean_examples(ctx)
    noisy = noisy_training_copies(clean, float(d.noise), int(d.augment), ctx.seed)
    history = fine_tune(ctx.model, ctx.encoder, clean + noisy, tcfg, ctx.device, ctx.seed, dev=ctx.dev,
                        desc="smoothing: noise augmentation", progress=ctx.progress)
    settings = {"noise": float(d.noise), "votes": int(d.votes), "seed": int(ctx.seed)}

    def save(folder: Path) -> None:
        write_wrapper_file(folder, WRAPPER)
        (Path(folder) / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")

    info = {"clean": len(clean), "noisy": len(noisy), **settings, **history,
            "train_seconds": round(time.perf_counter() - started, 2)}
    return Defended(ctx.model, info, save_extra=save)
