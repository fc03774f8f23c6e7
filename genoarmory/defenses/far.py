"""Frequency-aware randomisation (ADFAR, Bao et al., Findings of ACL 2021), over a victim's DNA tokens.

Built once from the clean model and its training DNA:
- token counts over the training sequences; a DNA token is *rare* when seen less than `rare_below`
  times the mean count of DNA tokens of its nucleotide length (adversarial edits tend to create
  rare k-mers, e.g. CpG-containing ones in CpG-depleted DNA);
- *synonyms*: the `syn_num` nearest DNA tokens of the same length by cosine of the model's input
  embeddings, kept at cosine >= `syn_threshold`, then ordered by training frequency and cut to the
  `most_freq` most frequent (the reference: syn_num 10, syn_threshold 0.7, most_freq_num 5).
Applied to token ids: `ratio` of a sequence's tokens are chosen, rare tokens first (then the others at
random), and each is replaced by a random one of its frequent synonyms (reference ratio 0.2).

The random choices are a fixed function of (salt, the sequence's unpadded token ids): the same input
gets the same randomisation in any batch, so the victim's prediction cache, the engine's fresh-pass
self-check and reruns stay consistent. Training passes a new salt every step.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from genoarmory.attacks.transformations import is_dna


class FrequencyRandomiser:
    def __init__(self, synonyms: np.ndarray, rare: np.ndarray, ratio: float):
        self.synonyms = np.asarray(synonyms, dtype=np.int64)  # [V, most_freq], -1 = none
        self.rare = np.asarray(rare, dtype=bool)              # [V]
        self.n_syn = (self.synonyms >= 0).sum(axis=1)
        self.ratio = float(ratio)

    @classmethod
    def build(cls, embedding: torch.Tensor, tokenizer, encoder, sequences: list[str], ratio: float = 0.2,
              syn_num: int = 10, syn_threshold: float = 0.7, most_freq: int = 5,
              rare_below: float = 0.5) -> "FrequencyRandomiser":
        vocab_size = embedding.shape[0]
        counts = token_counts(encoder, sequences, vocab_size)
        tokens = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
        dna = np.array([i for i, t in enumerate(tokens) if is_dna(t)], dtype=np.int64)
        lengths = np.array([len(tokens[i]) for i in dna])
        rare = np.zeros(vocab_size, dtype=bool)
        for n in np.unique(lengths):
            ids = dna[lengths == n]
            rare[ids] = counts[ids] < rare_below * counts[ids].mean()
        synonyms = np.full((vocab_size, most_freq), -1, dtype=np.int64)
        weights = torch.nn.functional.normalize(embedding.detach().float().cpu()[dna], dim=-1)
        for start in range(0, len(dna), 1024):  # bounded memory for large vocabularies
            cos = weights[start:start + 1024] @ weights.T
            cos[torch.from_numpy(lengths[start:start + 1024, None] != lengths[None, :])] = -2.0
            cos[torch.arange(cos.shape[0]), torch.arange(start, start + cos.shape[0])] = -2.0  # not itself
            top = cos.topk(min(syn_num, len(dna) - 1), dim=-1)
            for row in range(cos.shape[0]):
                near = [int(dna[j]) for v, j in zip(top.values[row].tolist(), top.indices[row].tolist())
                        if v >= syn_threshold]
                near.sort(key=lambda t: -counts[t])
                synonyms[dna[start + row], :len(near[:most_freq])] = near[:most_freq]
        return cls(synonyms, rare, ratio)

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, salt: int = 0) -> torch.Tensor:
        ids = input_ids.detach().cpu().numpy()
        real_rows = attention_mask.detach().cpu().numpy().astype(bool)
        out = ids.copy()
        for r in range(len(ids)):
            real = np.flatnonzero(real_rows[r])
            k = int(len(real) * self.ratio)
            usable = real[self.n_syn[ids[r, real]] > 0]
            if k == 0 or len(usable) == 0:
                continue
            rng = np.random.default_rng([int(salt) & 0xFFFFFFFF, zlib.crc32(ids[r, real].tobytes())])
            rare = usable[self.rare[ids[r, usable]]]
            common = usable[~self.rare[ids[r, usable]]]
            if len(rare) >= k:
                chosen = rng.choice(rare, k, replace=False)
            else:
                chosen = np.concatenate([rare, rng.choice(common, min(k - len(rare), len(common)), replace=False)])
            for p in chosen:
                options = self.synonyms[ids[r, p], :self.n_syn[ids[r, p]]]
                out[r, p] = options[rng.integers(len(options))]
        return torch.from_numpy(out).to(input_ids.device)

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"synonyms": torch.from_numpy(self.synonyms), "rare": torch.from_numpy(self.rare)}


def token_counts(encoder, sequences: list[str], vocab_size: int, batch: int = 512) -> np.ndarray:
    counts = np.zeros(vocab_size, dtype=np.int64)
    for i in range(0, len(sequences), batch):
        enc = encoder.encode(sequences[i:i + batch])
        ids = enc["input_ids"][enc["attention_mask"].bool()].numpy()
        counts += np.bincount(ids, minlength=vocab_size)[:vocab_size]
    return counts
