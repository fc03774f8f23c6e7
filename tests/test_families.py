"""Every tokenization family, offline: random small models of the real architectures, real tokenizers
where we have them, token -> nucleotide spans, padding/masking, vectorised encoding, save -> reload."""

import itertools

import numpy as np
import pytest
import torch
from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification, BertTokenizer, EsmConfig,
                          EsmForSequenceClassification, EsmTokenizer, MistralConfig,
                          MistralForSequenceClassification, PreTrainedTokenizerFast)

from genoarmory.errors import UserError
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.load import load_classifier
from genoarmory.models.tiny import save_pretrained
from genoarmory.models.tiny_tokenizers import build_tiny_tokenizer
from genoarmory.models.victim import Victim

KMERS = ["".join(p) for p in itertools.product("ACGT", repeat=6)]
RNG = np.random.default_rng(0)
SEQS = ["".join(RNG.choice(list("ACGT"), n)) for n in (13, 40, 57, 64, 101)]


def small_bert(vocab_size, pad_id, **kw):
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                                                    num_attention_heads=2, intermediate_size=64,
                                                    pad_token_id=pad_id, max_position_embeddings=600, **kw))


def nt_tokenizer(tmp_path):
    vocab = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"] + KMERS + list("ATCGN")
    (tmp_path / "vocab.txt").write_text("\n".join(vocab))
    return EsmTokenizer(str(tmp_path / "vocab.txt"))


def dnabert1_tokenizer(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + KMERS))
    return BertTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=False)


def genomeocean_like_tokenizer():
    """A BPE tokenizer with no pad token (like GenomeOcean's): the loader pads with EOS."""
    fast = build_tiny_tokenizer("bpe", SEQS * 20, bpe_vocab_size=64)
    tok = PreTrainedTokenizerFast(tokenizer_object=fast.backend_tokenizer, eos_token="[SEP]", unk_token="[UNK]")
    tok.pad_token = tok.eos_token
    return tok


def families(tmp_path, shared):
    """name -> builder of (model, tokenizer, tokenization); only the family a test asks for is built."""

    def nt(positions: str = "absolute"):  # NT v1; NT v2 is rotary (HF's Esm caches its tables at a forward)
        tok = nt_tokenizer(tmp_path)
        torch.manual_seed(0)
        esm = EsmConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, pad_token_id=1, mask_token_id=2, max_position_embeddings=600,
                        position_embedding_type=positions, token_dropout=False)
        return EsmForSequenceClassification(esm), tok, "kmer"

    def char():
        tok = build_tiny_tokenizer("char")
        return small_bert(len(tok), tok.pad_token_id), tok, "char"

    def genomeocean():
        tok = genomeocean_like_tokenizer()
        torch.manual_seed(0)
        cfg = MistralConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id)
        return MistralForSequenceClassification(cfg), tok, "bpe"

    def dnabert1():
        return small_bert(4101, 0), dnabert1_tokenizer(tmp_path), "overlapping_kmer"

    def dnabert2():
        tok = AutoTokenizer.from_pretrained(shared / "fixtures/hf/dnabert2-117m-config")
        return small_bert(4096, tok.pad_token_id), tok, "bpe"

    out = {"nt (esm, 6-mer)": nt, "nt v2 (esm rotary, 6-mer)": lambda: nt("rotary"),
           "hyenadna/caduceus-like (char)": char, "genomeocean-like (mistral, bpe, pad=eos)": genomeocean,
           "dnabert1 (overlapping 6-mer)": dnabert1}
    if shared is not None:
        out["dnabert2 tokenizer (bpe)"] = dnabert2
    return out


FAMILY_NAMES = ["nt (esm, 6-mer)", "nt v2 (esm rotary, 6-mer)", "hyenadna/caduceus-like (char)",
                "genomeocean-like (mistral, bpe, pad=eos)", "dnabert1 (overlapping 6-mer)", "dnabert2 tokenizer (bpe)"]


def family_victim(tmp_path, name: str) -> tuple[Victim, str]:
    """(victim, tokenization) of one family; skips when it needs ../shared and that is absent."""
    from conftest import SHARED

    fams = families(tmp_path, SHARED if SHARED.is_dir() else None)
    if name not in fams:
        pytest.skip("../shared (the real DNABERT-2 tokenizer) absent")
    model, tok, tokenization = fams[name]()
    return Victim(model, SequenceEncoder(tok, tokenization, 512), name), tokenization


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family(tmp_path, name):
    victim, tokenization = family_victim(tmp_path, name)
    encoder = victim.encoder
    # spans: in order, inside the sequence, specials None, covering every nucleotide
    for seq in SEQS:
        spans = victim.token_spans(seq)
        ids = encoder.encode([seq])["input_ids"][0]
        assert len(spans) == len(ids)
        real = [s for s in spans if s is not None]
        covered = sorted({p for a, b in real for p in range(a, b)})
        assert covered == list(range(len(seq)))
        if tokenization != "overlapping_kmer":
            assert "".join(seq[a:b] for a, b in real) == seq  # a partition, in order
    # batching with padding == one at a time (pad id, attention mask, last-token pooling all right)
    batched = victim.predict_proba(SEQS, use_cache=False)
    single = np.concatenate([victim.predict_proba([s], use_cache=False) for s in SEQS])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    # save -> reload through the project loader gives the same predictions
    folder = tmp_path / "saved"
    save_pretrained(victim.model, encoder.tokenizer, folder)
    model2, tok2 = load_classifier(folder, 2)
    again = Victim(model2, SequenceEncoder(tok2, tokenization, 512), name).predict_proba(SEQS, use_cache=False)
    np.testing.assert_allclose(batched, again, atol=1e-5)


def test_dnabert2_pad_id_comes_from_the_tokenizer_not_the_config(shared_dir):
    tok = AutoTokenizer.from_pretrained(shared_dir / "fixtures/hf/dnabert2-117m-config")
    enc = SequenceEncoder(tok, "bpe", 512)
    assert tok.convert_ids_to_tokens(enc.pad_id) == "[PAD]" and enc.pad_id != 0  # config.json says 0
    spans = enc.token_spans("ACGTAGCTAGCTAGGGATCCA")
    assert spans[0] is None and spans[-1] is None  # [CLS] ... [SEP]
    ids = enc.encode(["ACGTAGCTAGCTAGGGATCCA", "ACG"])["input_ids"]
    assert ids[1, -1].item() == enc.pad_id


def test_finetuned_reference_checkpoint_needs_trust_and_weights(shared_dir, tmp_path):
    folder = shared_dir / "fixtures/hf/dnabert2-finetuned-H3-config"
    with pytest.raises(UserError, match="model.trust_remote_code=true"):
        load_classifier(folder, 2)
    with pytest.raises(UserError, match="no weight files"):
        load_classifier(folder, 2, trust_remote_code=True)


def test_pickle_weights_refused_unless_allowed(tmp_path):
    tok = build_tiny_tokenizer("char")
    model = small_bert(len(tok), tok.pad_token_id)
    save_pretrained(model, tok, tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    torch.save(model.state_dict(), tmp_path / "m" / "pytorch_model.bin")
    with pytest.raises(UserError, match="safetensors only unless model.allow_pickle=true"):
        load_classifier(tmp_path / "m", 2)


@pytest.mark.parametrize("kind, tokenization", [("char", "char"), ("kmer6", "kmer")])
def test_vectorised_encoding_equals_the_tokenizer(kind, tokenization, tmp_path):
    tok = build_tiny_tokenizer(kind)
    enc = SequenceEncoder(tok, tokenization, 512)
    assert enc._lookup is not None
    for n in (1, 6, 7, 100):
        seqs = ["".join(RNG.choice(list("ACGT"), n)) for _ in range(4)]
        fast = enc.encode(seqs)["input_ids"]
        slow = tok(seqs, return_tensors="pt")["input_ids"]
        assert torch.equal(fast, slow)
    nt = SequenceEncoder(nt_tokenizer(tmp_path), "kmer", 512)
    assert nt._lookup is not None
    seqs = ["".join(RNG.choice(list("ACGT"), 45)) for _ in range(3)]
    assert nt.encode(seqs)["input_ids"].tolist() == [nt.token_ids(s) for s in seqs]


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_gradients_flow_after_the_victims_queries(tmp_path, name):
    """FIMBA and PGD take gradients after the attack's queries have run the same model: whatever a model
    caches during a query (HF Esm's rotary tables, NT v2) must be usable by autograd afterwards."""
    victim, _ = family_victim(tmp_path, name)
    seqs = SEQS[1:4]
    victim.predict_proba(seqs)  # the queries run first, at the same padded length as the gradient pass below
    embeds, batch = victim.embed(seqs)
    embeds = embeds.detach().requires_grad_(True)
    victim.forward_from_embeddings(embeds, batch["attention_mask"], batch["input_ids"]).sum().backward()
    assert embeds.grad is not None and torch.isfinite(embeds.grad).all() and embeds.grad.abs().sum() > 0
