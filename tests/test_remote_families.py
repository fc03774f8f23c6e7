"""DNABERT-2 and HyenaDNA through their OWN code (../shared/fixtures/hf/*-remote-code), loaded as users load
them (`trust_remote_code`): random-weight checkpoints of the real architectures (2 layers, width 32),
fine-tuned briefly by `train`, then every attack, every defense, GenoAdv and int8 through the product.
Also: the folders `train` writes reload in a fresh process with plain transformers; input embeddings reach
each model through a path that equals its plain forward; padding as each model's code needs it.
Small settings: mechanics and correctness, not robustness. Skipped without ../shared."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import SHARED, run_cli

from genoarmory.errors import UserError
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.families import DNABERT2, HYENADNA, family_of
from genoarmory.models.forward import accepted_inputs, embedding_path, forward_from_embeddings
from genoarmory.models.load import load_classifier
from genoarmory.models.victim import Victim

pytestmark = pytest.mark.slow

CODE = {"dnabert2": "fixtures/hf/dnabert2-117m-remote-code", "hyenadna-small": "fixtures/hf/hyenadna-small-32k-remote-code"}
SIZES = {"dnabert2": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
         "hyenadna-small": dict(d_model=32, n_layer=2, d_inner=64, max_seq_len=1024)}
TASK = ["dataset.loader.n_train=3000", "dataset.loader.n_dev=100", "dataset.loader.n_test=200"]
RUN = [*TASK, "progress=false", "device=cpu", "model.trust_remote_code=true"]
RNG = np.random.default_rng(0)
SEQS = ["".join(RNG.choice(list("ACGT"), n)) for n in (13, 40, 57, 101)]


def code_dir(name: str) -> Path:
    folder = SHARED / CODE[name]
    if not (folder / "config.json").is_file():
        pytest.skip(f"{folder} absent (the remote-code fixtures live in ../shared; set GENOARMORY_SHARED)")
    return folder


@pytest.fixture(scope="session")
def base(tmp_path_factory):
    """name -> a random-weight base checkpoint folder (DNABERT-2's MLM, HyenaDNA's causal LM), built once."""
    from genoarmory.models.families.checkpoints import build_dnabert2, build_hyenadna

    built = {}

    def get(name: str) -> Path:
        if name not in built:
            build = build_dnabert2 if name == "dnabert2" else build_hyenadna
            built[name] = build(code_dir(name), tmp_path_factory.mktemp(f"{name}-base"), **SIZES[name])
        return built[name]

    return get


@pytest.fixture(scope="session")
def trained(base, tmp_path_factory):
    """name -> a `train` run folder: the base fine-tuned on motif/tata (3 epochs of 3,000 examples)."""
    runs = {}

    def get(name: str) -> Path:
        if name not in runs:
            run = tmp_path_factory.mktemp(f"{name}-train")
            assert run_cli("train", f"model={name}", f"model.path={base(name)}", f"run_dir={run}", *RUN,
                           "train.epochs=3") == 0
            metrics = json.loads((run / "metrics.json").read_text())
            print(f"{name} fine-tuned: test accuracy {metrics['accuracy']:.3f}, MCC {metrics['mcc']:.3f}")
            runs[name] = run
        return runs[name]

    return get


def mlm_args(name: str, base) -> list[str]:
    """BERT-Attack's masked LM: DNABERT-2's own; HyenaDNA has none, so DNABERT-2's through attack.mlm."""
    if name == "dnabert2":
        return [f"model.mlm={base('dnabert2')}"]
    return [f"attack.mlm={base('dnabert2')}", "+attack.mlm_tokenization=bpe"]


def victim_of(folder: Path, num_labels: int = 2) -> Victim:
    model, tok = load_classifier(folder, num_labels, trust_remote_code=True)
    tokenization = "bpe" if family_of(model.config) is DNABERT2 else "char"
    return Victim(model, SequenceEncoder(tok, tokenization, 1024), folder.name)


# -- the checkpoints, as users load them ---------------------------------------------------------------
def test_hyenadna_tokenizer_is_the_published_layout(base):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base("hyenadna-small"), trust_remote_code=True)
    vocab = tok.get_vocab()
    assert [vocab[t] for t in ["[CLS]", "[SEP]", "[BOS]", "[MASK]", "[PAD]", "[RESERVED]", "[UNK]"]] == list(range(7))
    assert [vocab[c] for c in "ACGTN"] == [7, 8, 9, 10, 11] and tok.pad_token_id == 4
    assert tok("ACGTN")["input_ids"] == [7, 8, 9, 10, 11, 1]  # [SEP] appended, no [CLS]
    assert tok.padding_side == "left" and "attention_mask" not in tok("ACG")
    config = json.loads((base("hyenadna-small") / "config.json").read_text())
    assert config["vocab_size"] == 12 and config["pad_token_id"] == 4


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
def test_spans_and_batching(base, name):
    """Token spans partition the sequence (specials None, as the tokenizer marks them); a padded batch gives
    exactly what each sequence gives alone."""
    victim = victim_of(base(name))
    for seq in SEQS:
        spans = victim.token_spans(seq)
        assert len(spans) == victim.encoder.encode([seq])["input_ids"].shape[1]
        assert "".join(seq[a:b] for a, b in (s for s in spans if s)) == seq
    assert spans[-1] is None and (spans[0] is None) == (name == "dnabert2")  # [CLS] .. [SEP] / .. [SEP]
    batched = victim.predict_proba(SEQS, use_cache=False)
    alone = np.concatenate([victim.predict_proba([s], use_cache=False) for s in SEQS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_hyenadna_left_padding_would_change_predictions(base):
    """Why the encoder pads HyenaDNA on the right: its causal filters read left pads (no attention mask)."""
    victim = victim_of(base("hyenadna-small"))
    assert victim.encoder.tokenizer.padding_side == "right"
    tok = victim.encoder.tokenizer
    with torch.no_grad():
        alone = victim.model(**tok(SEQS[:1], return_tensors="pt")).logits
        tok.padding_side = "left"
        left = victim.model(**tok(SEQS[:2], padding=True, return_tensors="pt")).logits[:1]
        tok.padding_side = "right"
        right = victim.model(**tok(SEQS[:2], padding=True, return_tensors="pt")).logits[:1]
    assert not torch.allclose(left, alone, atol=1e-4) and torch.allclose(right, alone, atol=1e-5)


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
def test_embeddings_reach_the_model_through_a_hook_equal_to_the_plain_forward(base, name):
    victim = victim_of(base(name))
    model = victim.model
    assert embedding_path(model) == "hook"
    batch = victim.encoder.encode(SEQS)  # padded
    ids, mask = batch["input_ids"], batch["attention_mask"]
    embeds = model.get_input_embeddings()(ids)
    with torch.no_grad():
        plain = model(input_ids=ids, **({"attention_mask": mask} if name == "dnabert2" else {})).logits
        hooked = forward_from_embeddings(model, embeds, ids, mask)
        shifted = forward_from_embeddings(model, embeds + torch.randn_like(embeds), ids, mask)
    torch.testing.assert_close(hooked, plain, atol=1e-6, rtol=0)
    assert not torch.allclose(shifted, plain)  # the given embeddings, not the ids' own, are what it reads
    if name == "dnabert2":  # why the hook: its BertModel swallows inputs_embeds and embeds input_ids anyway
        with pytest.raises((ValueError, TypeError, AttributeError)):
            model(inputs_embeds=embeds, attention_mask=mask)
    else:  # given inputs_embeds, HyenaDNA pools the LAST position: a pad in a padded batch
        with torch.no_grad():
            pooled_pad = model(inputs_embeds=embeds).logits
        assert not torch.allclose(pooled_pad[0], plain[0], atol=1e-4)
    delta = torch.zeros_like(embeds, requires_grad=True)
    forward_from_embeddings(model, embeds.detach() + delta, ids, mask).sum().backward()
    assert delta.grad is not None and delta.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
def test_one_pass_gives_the_logits_and_the_states_of_two(base, name):
    """TextFooler's filter pass on bf16 victims (forward.logits_and_last_hidden_states, through a hook on the
    own code's base model): the classifier's logits and its encoder's last hidden states, as the two separate
    passes give them, and no hook left behind."""
    from genoarmory.models.forward import last_hidden_states, logits_and_last_hidden_states

    victim = victim_of(base(name))
    model, batch = victim.model, victim.encoder.encode(SEQS)
    with torch.no_grad():
        logits, states = logits_and_last_hidden_states(model, batch)
        want = model(**accepted_inputs(model, batch)).logits
        want_states = last_hidden_states(model, batch)
    torch.testing.assert_close(logits, want, atol=1e-6, rtol=0)
    torch.testing.assert_close(states, want_states, atol=1e-6, rtol=0)
    assert not any(m._forward_hooks for m in model.modules())


def test_dnabert2_alibi_grows_for_inputs_longer_than_it_was_built_for(base):
    """ALiBi biases are rebuilt on demand (in inference mode, on the input's device); predictions, batching
    and gradients hold across the rebuild."""
    victim = victim_of(base("dnabert2"))
    encoder = victim.model.bert.encoder
    long = ["".join(RNG.choice(list("ACGT"), 400)), SEQS[1]]
    want = victim.predict_proba(long, use_cache=False)
    encoder.rebuild_alibi_tensor(size=8)
    with pytest.warns(UserWarning, match="Increasing alibi size"):
        got = victim.predict_proba(long, use_cache=False)
    assert encoder._current_alibi_size > 8
    np.testing.assert_allclose(got, want, atol=1e-5)
    embeds, batch = victim.embed(long[:1])
    embeds = embeds.detach().requires_grad_(True)
    victim.forward_from_embeddings(embeds, batch["attention_mask"], batch["input_ids"]).sum().backward()
    assert embeds.grad.abs().sum() > 0


SYNCING_OPS = {"nonzero", "_local_scalar_dense", "masked_select", "unique", "_unique2"}  # wait for the device


def aten_ops(fn) -> set[str]:
    """The names of the aten operators `fn()` runs (an independent view of what the forward does)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: set[str] = set()

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    with Record():
        fn()
    return seen


def test_dnabert2_padded_forward_equals_its_own_code_without_syncs(base):
    """The bf16 CUDA query path (families.query_module): DNABERT-2's own layers on the padded batch. In
    float32 it gives the own code's logits on padded batches of mixed lengths, a full batch without a mask,
    and across an ALiBi rebuild; the own code synchronises with the device (nonzero, item), it does not;
    and torch.compile traces it as one graph."""
    from genoarmory.models.families import query_module
    from genoarmory.models.families.dnabert2_padded import PaddedDnabert2
    from genoarmory.models.forward import last_hidden_states, logits_and_last_hidden_states

    victim = victim_of(base("dnabert2"))
    model, padded = victim.model, query_module(victim.model)
    assert isinstance(padded, PaddedDnabert2) and victim.query_model is model  # CPU queries: the own code
    long = "".join(RNG.choice(list("ACGT"), 400))
    batches = [victim.encoder.encode(SEQS), victim.encoder.encode([SEQS[2]] * 3),
               victim.encoder.encode([long, SEQS[0]])]
    batches[1].pop("attention_mask", None)
    encoder = model.bert.encoder
    with torch.no_grad():
        for batch in batches:
            encoder.rebuild_alibi_tensor(size=8)  # each path grows it for the long batch
            want = model(**batch).logits
            encoder.rebuild_alibi_tensor(size=8)
            torch.testing.assert_close(padded(**batch).logits, want, atol=1e-5, rtol=0)
            assert encoder._current_alibi_size >= batch["input_ids"].shape[1]
            # the states TextFooler's filter reads from the same pass (at real tokens: padding is unread)
            logits, states = logits_and_last_hidden_states(padded, batch)
            real = batch.get("attention_mask", torch.ones_like(batch["input_ids"])).bool()
            torch.testing.assert_close(logits, want, atol=1e-5, rtol=0)
            torch.testing.assert_close(states[real], last_hidden_states(model, batch)[real], atol=1e-5, rtol=0)
        batch = batches[0]
        own_ops = aten_ops(lambda: model(**batch))
        padded_ops = aten_ops(lambda: padded(**batch))
        assert own_ops & SYNCING_OPS and not padded_ops & SYNCING_OPS, (own_ops & SYNCING_OPS, padded_ops)
        traced = torch.compile(padded, fullgraph=True, backend="eager")  # a graph break would raise here
        torch.testing.assert_close(traced(**batch).logits, model(**batch).logits, atol=1e-5, rtol=0)


def test_dnabert2_query_path_is_only_for_its_own_classifier(base):
    """A wrapper around DNABERT-2 (a defense's detector, say) keeps its own forward; other families too."""
    from genoarmory.models.families import query_module

    model = victim_of(base("dnabert2")).model

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.config = inner, inner.config

    wrapper = Wrapper(model)
    hyena = victim_of(base("hyenadna-small")).model
    assert query_module(wrapper) is wrapper and query_module(hyena) is hyena


def test_dnabert2_debug_print_is_silenced(base, capsys):
    """Its PyTorch attention prints a line of dashes per layer per forward pass as shipped."""
    victim = victim_of(base("dnabert2"))
    module = sys.modules[type(victim.model).__module__]
    capsys.readouterr()
    victim.predict_proba(SEQS, use_cache=False)
    assert "-----" not in capsys.readouterr().out
    del module.print  # the shipped behaviour, to show the test can see it
    try:
        victim.predict_proba(SEQS, use_cache=False)
        assert "-------------------" in capsys.readouterr().out
    finally:
        from genoarmory.models.families.dnabert2 import quiet_debug_print

        quiet_debug_print(victim.model)


def test_dnabert2_attention_path_selection():
    """The Triton kernel is kept only on CUDA and only when it runs and agrees with PyTorch attention; on CPU
    (this test) the module's kernel is switched off, which is the code's own switch to its PyTorch path."""
    from types import ModuleType, SimpleNamespace

    from genoarmory.models.families.dnabert2 import kernel_problem, reference_attention, select_attention

    module = ModuleType("fake_bert_layers")
    module.flash_attn_qkvpacked_func = reference_attention
    sys.modules[module.__name__] = module
    try:
        model = type("Fake", (), {"__module__": module.__name__, "config": SimpleNamespace(
            num_attention_heads=2, hidden_size=16)})()
        assert select_attention(model, torch.device("cpu")) == "pytorch" and module.flash_attn_qkvpacked_func is None
    finally:
        del sys.modules[module.__name__]
    cpu = torch.device("cpu")
    assert kernel_problem(reference_attention, 2, 8, cpu) is None
    assert "differs" in kernel_problem(lambda qkv, bias: reference_attention(qkv, bias) * 1.1, 2, 8, cpu)

    def broken(qkv, bias):
        raise RuntimeError("CompilationError at 12:4: _fwd_kernel")

    assert "CompilationError" in kernel_problem(broken, 2, 8, cpu)


# -- through the product ------------------------------------------------------------------------------
ATTACKS = ["bertattack", "textfooler", "pgd", "fimba", "random"]


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_attack(trained, base, tmp_path, name, attack):
    run = tmp_path / "run"
    args = ["attack", f"model={name}", f"model.path={trained(name) / 'model'}", f"attack={attack}", f"run_dir={run}",
            "dataset.limit=8", *RUN, *(mlm_args(name, base) if attack == "bertattack" else [])]
    assert run_cli(*args) == 0
    summary = json.loads((run / "summary.json").read_text())
    records = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert len(records) == 8 and summary["n_attacked"] == sum(r["status"] != "skipped" for r in records)
    assert 0 <= summary["asr"] <= 1
    # a fine-tune `train` made of the hub config is not the hub model: named after its folder, loaded as the config
    assert summary["model"]["family"] == name and summary["model"]["name"] == f"{trained(name).name}-model"
    valid = summary.get("valid_asr")
    print(f"{name} {attack}: ASR {summary['asr']:.3f}, valid ASR {valid if valid is None else round(valid, 3)}, "
          f"of {summary['n_attacked']} attacked, {summary['average_queries']:.1f} queries each, "
          f"{summary['seconds']:.2f} s in all")


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
def test_train_folder_reloads_in_a_fresh_process_with_plain_transformers(trained, name):
    folder = trained(name) / "model"
    code = json.loads((folder / "genoarmory_code.json").read_text())["files"]
    must = {"dnabert2": {"bert_layers.py", "bert_padding.py", "configuration_bert.py"},
            "hyenadna-small": {"modeling_hyena.py", "configuration_hyena.py", "tokenization_hyena.py"}}[name]
    assert must <= set(code) and all((folder / f).is_file() for f in code)
    victim = victim_of(folder)
    want = victim.predict_proba(SEQS[:1], use_cache=False)[0].tolist()
    script = ("import sys, json, torch\n"
              "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
              "m = AutoModelForSequenceClassification.from_pretrained(sys.argv[1], trust_remote_code=True).eval()\n"
              "t = AutoTokenizer.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
              "ids = t(sys.argv[2], return_tensors='pt')['input_ids']\n"
              "with torch.no_grad(): print(json.dumps(torch.softmax(m(input_ids=ids).logits, -1)[0].tolist()))\n")
    out = subprocess.run([sys.executable, "-c", script, str(folder), SEQS[0]], capture_output=True, text=True,
                         timeout=300, cwd=folder.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    np.testing.assert_allclose(json.loads(out.stdout.strip().splitlines()[-1]), want, atol=1e-5)
    with pytest.raises(UserError, match="model.trust_remote_code=true"):  # never implicit
        load_classifier(folder, 2)


def test_changed_code_is_refused_and_missing_packages_named(trained, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(trained("hyenadna-small") / "model", folder)
    with open(folder / "modeling_hyena.py", "a") as f:
        f.write("\n# edited\n")
    with pytest.raises(UserError, match="modeling_hyena.py changed since GenoArmory wrote this folder"):
        load_classifier(folder, 2, trust_remote_code=True)
    (folder / "genoarmory_code.json").unlink()
    text = (folder / "modeling_hyena.py").read_text()
    (folder / "modeling_hyena.py").write_text("import genoarmory_absent_package_xyz\n" + text)
    with pytest.raises(UserError, match="genoarmory_absent_package_xyz"):
        load_classifier(folder, 2, trust_remote_code=True)


def test_code_named_in_another_repository_travels_too(base, tmp_path):
    """A fine-tuned folder's auto_map may name the base repository's code (`org/repo--bert_layers.X`), as
    the paper's fine-tuned DNABERT-2 checkpoints do: it is found there and copied in, auto_map made local."""
    from genoarmory.models.saving import save_pretrained

    folder = tmp_path / "finetuned"
    folder.mkdir()
    for f in ("model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(base("dnabert2") / f, folder / f)
    config = json.loads((base("dnabert2") / "config.json").read_text())
    config["auto_map"] = {k: f"zhihan1996/DNABERT-2-117M--{v}" for k, v in config["auto_map"].items()}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=r"runs \w+\.py from zhihan1996/DNABERT-2-117M, which is not in the folder"):
        load_classifier(folder, 2, trust_remote_code=True)
    from genoarmory.hub import fetch, import_snapshot
    from genoarmory.models.families.code import RemoteCode
    from genoarmory.models.saving import REMOTE_CODE

    cache = tmp_path / "cache"  # the base repository, as `download --source` lays it into the project's cache
    import_snapshot(base("dnabert2"), "zhihan1996/DNABERT-2-117M", cache_dir=cache)
    code = RemoteCode.of(folder, resolve_repo=lambda repo: fetch(repo, offline=True, cache_dir=cache))
    assert {"bert_layers.py", "bert_padding.py", "configuration_bert.py", "flash_attn_triton.py"} <= set(code.files)
    # (transformers itself then loads that code from the hub cache, which on a machine without triton stops
    # at flash_attn_triton.py's `import triton`: a one-line UserError; the same model from the local code here)
    model, tok = load_classifier(base("dnabert2"), 2, trust_remote_code=True)
    setattr(model, REMOTE_CODE, code)
    save_pretrained(model, tok, tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "config.json").read_text())["auto_map"]
    assert saved["AutoModelForSequenceClassification"] == "bert_layers.BertForSequenceClassification"
    again, _ = load_classifier(tmp_path / "saved", 2, trust_remote_code=True)
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
@pytest.mark.parametrize("defense", ["at", "freelb", "adfar"])
def test_defend(trained, base, tmp_path, name, defense):
    run = tmp_path / "run"
    args = ["defend", f"defense={defense}", f"model={name}", f"model.path={trained(name) / 'model'}",
            f"run_dir={run}", "dataset.limit=4", "defense.max_clean=48", "defense.train.epochs=1", *RUN,
            *mlm_args(name, base), *(["defense.n_adversarial=6"] if defense != "freelb" else [])]
    assert run_cli(*args) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["defense"]["name"] == defense and 0 <= summary["asr"] <= 1
    written = json.loads((run / "model" / "genoarmory_code.json").read_text())["files"]
    assert written and all((run / "model" / f).is_file() for f in written)
    print(f"{name} {defense}: ASR {summary['undefended']['asr']:.3f} -> {summary['asr']:.3f}")


@pytest.mark.parametrize("name", ["dnabert2", "hyenadna-small"])
def test_int8_and_genoadv(trained, tmp_path, name, capsys):
    model = trained(name) / "model"
    for attack in ("random", "pgd"):
        run = tmp_path / f"int8-{attack}"
        assert run_cli("attack", f"model={name}", f"model.path={model}", "model.quantize=int8", f"attack={attack}",
                       f"run_dir={run}", "dataset.limit=6", *RUN) == 0
        assert json.loads((run / "summary.json").read_text())["model"]["quantize"] == "int8"
    run = tmp_path / "attack-train"
    assert run_cli("attack", f"model={name}", f"model.path={model}", "attack=fimba", "dataset.split=train",
                   "dataset.limit=8", f"run_dir={run}", *RUN) == 0
    out = tmp_path / "genoadv"
    assert run_cli("genoadv", "build", f"runs=[{run}]", f"run_dir={out}", "progress=false") == 0
    capsys.readouterr()
    # the victim ships code: the row's victim_config saying trust_remote_code=true is not enough (issue #21)
    assert run_cli("genoadv", "verify", str(out), "--no-progress") == 2
    assert "rerun with --trust-remote-code" in capsys.readouterr().err
    assert run_cli("genoadv", "verify", str(out), "--no-progress", "--fail-under", "100", "--trust-remote-code") == 0
    assert "(100.00 %)" in capsys.readouterr().out
