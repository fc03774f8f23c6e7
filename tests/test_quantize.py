"""model.quantize: dynamic int8 (CPU) and weight-only int8, as a victim that attacks run on."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from genoarmory.errors import UserError
from genoarmory.models.quantize import Int8DynamicLinear, Int8WeightOnlyLinear, input_gradients, quantize


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=40, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, max_position_embeddings=64, type_vocab_size=1, num_labels=3)
    return BertForSequenceClassification(config).eval()


def linear_layers(model):
    return [m for m in model.modules() if type(m) is torch.nn.Linear]


def test_dynamic_int8_quantizes_every_linear_and_keeps_predictions(classifier):
    ids = torch.randint(5, 40, (16, 20))
    q = quantize(copy.deepcopy(classifier), "int8", torch.device("cpu"))
    layers = [m for m in q.modules() if isinstance(m, Int8DynamicLinear)]
    assert layers and not linear_layers(q) and linear_layers(classifier)
    assert q.genoarmory_quantization["method"] == "int8-dynamic" and input_gradients(q)
    assert type(q.get_input_embeddings()) is torch.nn.Embedding  # embeddings stay float (TextFooler reads them)
    x = torch.randn(3, 64)
    step = x.abs().amax(1, keepdim=True) / 127
    with torch.no_grad():  # int8 activations (per token) x int8 weights (per channel), rescaled
        assert torch.allclose(layers[0](x), (torch.round(x / step) * step) @ layers[0].weight.T + layers[0].bias,
                              atol=1e-5)
    with torch.inference_mode():
        ref, out = classifier(input_ids=ids).logits, q(input_ids=ids).logits
    assert not torch.equal(ref, out)  # it really computes in int8 ...
    assert (ref - out).abs().max() < 0.1  # ... close to float
    assert (ref.argmax(-1) == out.argmax(-1)).float().mean() >= 0.8
    embeds = q.get_input_embeddings()(ids[:2]).detach().requires_grad_()
    q(inputs_embeds=embeds).logits.sum().backward()  # straight through the rounding: gradient attacks run
    assert embeds.grad.abs().sum() > 0


@pytest.mark.parametrize("scheme", ["int8", "int8-torch-ao"])
def test_dynamic_int8_prediction_does_not_depend_on_the_batch(classifier, scheme):
    """torch.ao picks one activation scale per input tensor (so it runs sequence by sequence); ours one
    per token. Alone, padded or beside others, a sequence gets the same prediction (the engine re-scores
    successes on a fresh pass)."""
    q = quantize(copy.deepcopy(classifier), scheme, torch.device("cpu"))
    ids = torch.randint(5, 40, (8, 20))
    mask = torch.ones_like(ids)
    padded = torch.cat([ids[3:4], torch.zeros(1, 6, dtype=ids.dtype)], dim=1)
    with torch.inference_mode():
        together = q(input_ids=ids, attention_mask=mask).logits
        for i in range(len(ids)):
            alone = q(input_ids=ids[i:i + 1], attention_mask=mask[i:i + 1]).logits[0]
            assert torch.allclose(together[i], alone, atol=1e-5)
        alone_padded = q(input_ids=padded, attention_mask=(padded != 0).long()).logits
    assert torch.allclose(alone_padded[0], together[3], atol=1e-5)


def test_weight_only_int8_keeps_input_gradients(classifier):
    q = quantize(copy.deepcopy(classifier), "int8-weight-only", torch.device("cpu"))
    layers = [m for m in q.modules() if isinstance(m, Int8WeightOnlyLinear)]
    assert layers and not linear_layers(q) and input_gradients(q)
    assert layers[0].weight_int8.dtype == torch.int8
    ids = torch.randint(5, 40, (4, 12))
    embeds = q.get_input_embeddings()(ids).detach().requires_grad_()
    out = q(inputs_embeds=embeds).logits
    out.sum().backward()
    assert embeds.grad is not None and embeds.grad.abs().sum() > 0
    with torch.no_grad():
        assert (classifier(input_ids=ids).logits - q(input_ids=ids).logits).abs().max() < 0.1


def test_bad_schemes_are_user_errors(classifier):
    with pytest.raises(UserError, match="int8-weight-only"):
        quantize(classifier, "int4", torch.device("cpu"))
    with pytest.raises(UserError, match="CPU only"):
        quantize(classifier, "int8-torch-ao", torch.device("cuda"))
    ao = quantize(copy.deepcopy(classifier), "int8-torch-ao", torch.device("cpu"))
    assert not linear_layers(ao) and not input_gradients(ao)


def test_attack_runs_on_the_int8_victim_and_records_the_scheme(quick_tiny_model, tmp_path):
    from conftest import compose, run_cli

    from genoarmory.data import load_task
    from genoarmory.models.load import load_victim

    overrides = [f"model.path={quick_tiny_model / 'model'}", "dataset.limit=4", "device=cpu"]
    cfg = compose(overrides + ["model.quantize=int8"])
    victim = load_victim(cfg, load_task(cfg))
    assert not linear_layers(victim.model) and victim.info["quantize"] == "int8"
    assert run_cli("attack", *overrides, "model.quantize=int8", "attack=textfooler", f"run_dir={tmp_path}",
                   "progress=false") == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["model"]["quantize"] == "int8" and summary["n_examples"] == 4
