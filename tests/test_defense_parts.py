"""Defense building blocks on small untrained models: FreeLB's steps, frequency-aware randomisation,
ADFAR's wrapper and its save / load through load_victim. No training; a few seconds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

from genoarmory.defenses.adfar import AdfarClassifier, adfar_loss, wrap_saved
from genoarmory.defenses.far import FrequencyRandomiser
from genoarmory.defenses.freelb import ascend, freelb_loss, initial_delta
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.tiny import compositional_embeddings, save_pretrained
from genoarmory.models.tiny_tokenizers import build_tiny_tokenizer
from genoarmory.models.training import classification_loss


def no_cpg_dna(rng, n, length=60):
    """Random DNA without the dinucleotide CG: every CpG-containing 6-mer is rare (count 0)."""
    out = []
    while len(out) < n:
        s = "".join(rng.choice(list("ACGT"), length))
        if "CG" not in s:
            out.append(s)
    return out


@pytest.fixture(scope="module")
def kmer_parts():
    tokenizer = build_tiny_tokenizer("kmer6", (), 64)
    encoder = SequenceEncoder(tokenizer, "kmer", 64)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, type_vocab_size=1,
                        pad_token_id=tokenizer.pad_token_id, num_labels=3)
    torch.manual_seed(0)
    mlm = BertForMaskedLM(config)
    compositional_embeddings(mlm, tokenizer, 0)  # 6-mers one base apart: cosine ~ 5/6
    classifier = BertForSequenceClassification(config)
    classifier.bert.load_state_dict(mlm.bert.state_dict(), strict=False)
    return tokenizer, encoder, classifier.eval()


def test_freelb_start_and_steps():
    torch.manual_seed(0)
    embeds = torch.randn(2, 5, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    delta = initial_delta(embeds, mask, 0.6)
    assert torch.all(delta[0, 3:] == 0)  # padding is never perturbed
    assert torch.all(delta[0].abs() <= 0.6 / (3 * 8) ** 0.5 + 1e-7)
    assert torch.all(delta[1].abs() <= 0.6 / (5 * 8) ** 0.5 + 1e-7)
    grad = torch.randn_like(delta)
    stepped = ascend(delta, grad, 0.1, 0.0)  # unbounded: moves exactly adv_lr along the normalised gradient
    assert torch.allclose((stepped - delta).flatten(1).norm(dim=1), torch.full((2,), 0.1), atol=1e-6)
    bounded = ascend(delta, grad * 100, 5.0, 0.3)
    assert torch.all(bounded.flatten(1).norm(dim=1) <= 0.3 + 1e-5)


def test_freelb_loss_is_trainable_and_reduces_to_plain_loss(kmer_parts):
    _, encoder, classifier = kmer_parts
    batch = encoder.encode(["ACGTAC" * 5, "TTTTAA" * 5])
    labels = torch.tensor([0, 2])
    plain = freelb_loss(adv_steps=1, init_mag=0.0)(classifier, batch, labels)
    assert torch.allclose(plain, classification_loss(classifier, batch, labels))
    adversarial = freelb_loss(adv_steps=2, adv_lr=0.1, init_mag=0.6)(classifier, batch, labels)
    adversarial.backward()
    assert classifier.get_input_embeddings().weight.grad.abs().sum() > 0
    classifier.zero_grad()


def test_frequency_aware_randomisation(kmer_parts):
    tokenizer, encoder, classifier = kmer_parts
    rng = np.random.default_rng(0)
    far = FrequencyRandomiser.build(classifier.get_input_embeddings().weight, tokenizer, encoder,
                                    no_cpg_dna(rng, 300), ratio=0.2)
    vocab = tokenizer.get_vocab()
    assert far.rare[vocab["ACGTTT"]] and not far.rare[vocab["AAATTT"]]
    assert not far.rare[tokenizer.pad_token_id]  # special tokens are never candidates
    syn = far.synonyms[vocab["AAATTT"]]
    assert (syn >= 0).sum() > 0 and all(len(tokenizer.convert_ids_to_tokens(int(t))) == 6 for t in syn if t >= 0)

    seq = "ACGTTT" + "AAATTT" * 8 + "TCGATT"  # 10 tokens: 2 rare, k = int(12 * 0.2) = 2 (CLS, SEP count)
    batch = encoder.encode([seq])
    out = far(batch["input_ids"], batch["attention_mask"], salt=7)
    changed = (out != batch["input_ids"])[0].nonzero().squeeze(1).tolist()
    ids = batch["input_ids"][0].tolist()
    assert changed == [1, 10]  # the two rare tokens are chosen first
    for p in changed:
        assert int(out[0, p]) in far.synonyms[ids[p]]
    # the same sequence gets the same randomisation in any batch (padding, neighbours), other salts differ
    mixed = encoder.encode(["ACGT" * 20, seq])
    again = far(mixed["input_ids"], mixed["attention_mask"], salt=7)
    assert again[1, :out.shape[1]].tolist() == out[0].tolist()
    assert any(far(batch["input_ids"], batch["attention_mask"], salt=s).tolist() != out.tolist() for s in range(8))


def test_adfar_wrapper_decides_with_the_task_head_and_round_trips(kmer_parts, tmp_path):
    tokenizer, encoder, classifier = kmer_parts
    rng = np.random.default_rng(1)
    far = FrequencyRandomiser.build(classifier.get_input_embeddings().weight, tokenizer, encoder,
                                    no_cpg_dna(rng, 200), ratio=0.5)
    model = AdfarClassifier(classifier, torch.nn.Linear(32, 1), far, threshold=0.5, salt=3).eval()
    batch = encoder.encode(["ACGTCG" * 6, "AAATTT" * 6])
    plain = classifier(**batch).logits
    with torch.no_grad():
        model.detector.weight.zero_()
        model.detector.bias.fill_(-20.0)  # nothing flagged: exactly the task head
        assert torch.allclose(model(**batch).logits, plain)
        model.detector.bias.fill_(20.0)  # everything flagged: the task head on randomised tokens
        randomised = far(batch["input_ids"], batch["attention_mask"], 3)
        assert not torch.equal(randomised, batch["input_ids"])
        assert torch.allclose(model(**batch).logits, classifier(input_ids=randomised,
                                                                attention_mask=batch["attention_mask"]).logits)
        model.detector.bias.fill_(0.3)
    # multi-class training loss: class + 3 * is_adversarial
    loss = adfar_loss(3, pos_weight=2.0)(model.train(), batch, torch.tensor([2, 0 + 3]))
    loss.backward()
    assert model.detector.weight.grad.abs().sum() > 0
    model.eval().zero_grad()

    save_pretrained(classifier, tokenizer, tmp_path)
    model.save_head(tmp_path)
    from genoarmory.models.load import load_classifier

    reloaded, _ = load_classifier(tmp_path, 3)
    wrapped = wrap_saved(reloaded, tmp_path)
    with torch.no_grad():
        assert torch.allclose(wrapped(**batch).logits, model(**batch).logits, atol=1e-6)


def test_load_victim_wraps_an_adfar_folder(kmer_parts, tmp_path):
    from conftest import compose

    from genoarmory.data import Task
    from genoarmory.errors import UserError
    from genoarmory.models.load import load_victim
    from genoarmory.models.wrappers import WRAPPER_FILE

    tokenizer, encoder, classifier = kmer_parts
    far = FrequencyRandomiser(np.full((len(tokenizer), 1), -1), np.zeros(len(tokenizer), bool), 0.2)
    save_pretrained(classifier, tokenizer, tmp_path)
    AdfarClassifier(classifier, torch.nn.Linear(32, 1), far).save_head(tmp_path)
    cfg = compose([f"model.path={tmp_path}", "device=cpu"])
    victim = load_victim(cfg, Task("t", 3, {}))
    assert isinstance(victim.model, AdfarClassifier)
    assert victim.predict_proba(["ACGTAC" * 5]).shape == (1, 3)
    quantized = load_victim(compose([f"model.path={tmp_path}", "device=cpu", "model.quantize=int8"]), Task("t", 3, {}))
    assert isinstance(quantized.model, AdfarClassifier)  # its detector and task head are int8 too
    assert not [m for m in quantized.model.modules() if type(m) is torch.nn.Linear]
    assert quantized.predict_proba(["ACGTAC" * 5]).shape == (1, 3)
    (tmp_path / "adfar_head.safetensors").unlink()
    with pytest.raises(UserError, match="broken ADFAR head"):  # the folder still says it is wrapped
        load_victim(cfg, Task("t", 3, {}))
    (tmp_path / WRAPPER_FILE).unlink()
    assert not isinstance(load_victim(cfg, Task("t", 3, {})).model, AdfarClassifier)
