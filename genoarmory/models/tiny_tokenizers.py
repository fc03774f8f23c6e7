"""Tokenizers of the embedded tiny models, mirroring the real GFM tokenizations.

Built with the `tokenizers` library and wrapped as `PreTrainedTokenizerFast`, so a saved model folder
loads with `AutoTokenizer` and no project code, and offsets give token -> nucleotide spans for free.
- char:  one token per nucleotide (HyenaDNA, Caduceus)
- kmer6: non-overlapping 6-mers, then single nucleotides for the tail (Nucleotide Transformer)
- bpe:   byte-pair merges learned on the task's training DNA (DNABERT-2, GROVER, GenomeOcean)
"""

from __future__ import annotations

import itertools
from typing import Iterable

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from genoarmory.errors import UserError

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# model.tokenizer of a tiny config -> the SequenceEncoder's kind of token spans
TOKENIZATION = {"char": "char", "kmer6": "kmer", "bpe": "bpe"}
NUCLEOTIDES = ["A", "C", "G", "T", "N"]


def _word_level(vocab_tokens: list[str], split_pattern: str) -> Tokenizer:
    vocab = {tok: i for i, tok in enumerate(SPECIALS + vocab_tokens)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(split_pattern), behavior="isolated")
    return tok


def _bpe(training_sequences: Iterable[str], vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=NUCLEOTIDES, show_progress=False
    )
    tok.train_from_iterator(training_sequences, trainer=trainer)
    return tok


def build_tiny_tokenizer(kind: str, training_sequences: Iterable[str] = (), max_length: int = 512,
                         bpe_vocab_size: int = 256) -> PreTrainedTokenizerFast:
    if kind == "char":
        tok = _word_level(NUCLEOTIDES, ".")
    elif kind == "kmer6":
        kmers = ["".join(p) for p in itertools.product("ACGT", repeat=6)]
        tok = _word_level(kmers + NUCLEOTIDES, "[ACGT]{6}|.")
    elif kind == "bpe":
        tok = _bpe(training_sequences, bpe_vocab_size)
    else:
        raise UserError(f"unknown tiny tokenizer {kind!r}; choose char, kmer6 or bpe")
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, model_max_length=max_length, pad_token="[PAD]", unk_token="[UNK]",
        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
    )
