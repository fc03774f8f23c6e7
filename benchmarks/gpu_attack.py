"""Attack throughput at real model sizes: our BERT-Attack and TextFooler against the victim's batched-forward
ceiling and against the same attacks composed from TextAttack (through attacks/textattack_bridge.py).

    python benchmarks/gpu_attack.py --out DIR --profile            # all three victims, real sizes, CUDA
    python benchmarks/gpu_attack.py --out DIR --scale tiny --device cpu --n 12 ...   # same code, tiny models

What runs where: benchmarks/gpu_carry.sh fills the git-ignored .carry/ (GUE test CSVs, the DNABERT-2
tokenizer, textattack's wheels); RESULTS.md gives the device command.

Victims have random weights, built offline from the real architectures and sizes: Nucleotide Transformer
v2 500M (Esm, rotary, 6-mer vocabulary of 4107), DNABERT-2 117M (BERT 12 x 768 with the real DNABERT-2 BPE
tokenizer), GenomeOcean 100M (Mistral, the same BPE tokenizer). A random classifier puts every sequence at
nearly the same logits, so the head is shifted and scaled once (median clean margin 0, spread 1; see
`centre_head`) and each example's label is set to the model's clean prediction: every example is attacked,
at a fixed budget (attack.max_perturb_ratio=0.1). BERT-Attack's masked LM is a random MLM of the victim's
architecture and tokenizer (for the causal GenomeOcean, the DNABERT-2-size BERT MLM on the same tokenizer,
as a user would pass attack.mlm=DNABERT-2), saved to a folder and passed as attack.mlm=<folder>.

Per victim, one process: (a) the ceiling — queries/s of plain batched bf16 inference swept over batch
sizes, on pre-tokenised device tensors (the model alone) and from strings (`Victim.logits`, tokenisation
included, as benchmarks/attack_throughput.py measures it); (b) our attacks on `--n` sequences (OUR_RUNS);
(c) TextAttack's greedy word-swap search through the bridge with BERT-Attack's transformation (masked-LM
tokens) and TextFooler's (embedding neighbours; the bridge has no sentence-encoder filter), on the first of
the same sequences until `--textattack-seconds`. Each run's time is split into the victim (tokenise and
launch; waiting for the GPU), the similarity filter, the masked LM, record writing and the rest (search and
engine Python). Also: a torch.profiler table of a short BERT-Attack, and the out-of-memory back-off.
Writes DIR/gpu_attack.json (+ DIR/profile_<victim>.txt) and prints one JSON row per run of ours.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))
from attack_throughput import forward_rate  # noqa: E402
from conftest import compose  # noqa: E402

from genoarmory.attacks import engine  # noqa: E402
from genoarmory.attacks.engine import run_attack  # noqa: E402
from genoarmory.attacks.recipes import build_attack  # noqa: E402
from genoarmory.data.csv_tasks import read_labelled_csv  # noqa: E402
from genoarmory.data.select import select_examples  # noqa: E402
from genoarmory.models.encoding import SequenceEncoder  # noqa: E402
from genoarmory.models.victim import Victim, _Launched  # noqa: E402
from genoarmory.results import RecordWriter, device_name  # noqa: E402

KMERS = ["".join(p) for p in itertools.product("ACGT", repeat=6)]
NT_VOCAB = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"] + KMERS + list("ATCGN")  # NT v2: 4107 tokens
TASK_LENGTH = {"prom/prom_core_all": 70, "tf/0": 101, "prom/prom_300_tata": 300}

# name -> (architecture, model config group, task attacked). Real sizes; `--scale tiny` shrinks the widths.
VICTIMS = {
    "nt2-500m": ("esm", "nt2-500m", "prom/prom_300_tata"),
    "dnabert2": ("bert", "dnabert2", "tf/0"),
    "genomeocean-100m": ("mistral", "genomeocean-100m", "prom/prom_core_all"),
}
SIZES = {
    # NT v2 500M: 29 layers x 1024, 16 heads, intermediate 4096, rotary positions (HF's Esm: a plain GELU FFN
    # where the real checkpoint has a gated one, so ~0.37B parameters in the stack instead of ~0.49B).
    "esm": {"real": dict(hidden_size=1024, num_hidden_layers=29, num_attention_heads=16, intermediate_size=4096),
            "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)},
    "bert": {"real": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
             "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)},
    "mistral": {"real": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
                             intermediate_size=3072),
                "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                             intermediate_size=64)},
}


# -- victims -------------------------------------------------------------------------------------
def nt_tokenizer(folder: Path):
    from transformers import EsmTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(NT_VOCAB))
    return EsmTokenizer(str(folder / "vocab.txt"), model_max_length=2048)


def bpe_tokenizer(folder: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)


def victim_tokenizer(name: str, args, work: Path):
    """(architecture, tokenizer, tokenization) of a benchmark victim."""
    arch = VICTIMS[name][0]
    if arch == "esm":
        return arch, nt_tokenizer(work / f"{name}-tokenizer"), "kmer"
    return arch, bpe_tokenizer(args.tokenizer), "bpe"


def build_models(arch: str, scale: str, tokenizer, device: torch.device):
    """(classifier, MLM or None) with random weights, created directly on `device`."""
    from transformers import (BertConfig, BertForMaskedLM, BertForSequenceClassification, EsmConfig,
                              EsmForMaskedLM, EsmForSequenceClassification, MistralConfig,
                              MistralForSequenceClassification)

    size = SIZES[arch][scale]
    torch.manual_seed(0)
    with torch.device(device):
        if arch == "esm":
            cfg = EsmConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                            mask_token_id=tokenizer.mask_token_id, max_position_embeddings=2050,
                            position_embedding_type="rotary", token_dropout=False, num_labels=2, **size)
            return EsmForSequenceClassification(cfg), EsmForMaskedLM(cfg)
        if arch == "bert":
            cfg = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                             max_position_embeddings=512, num_labels=2, **size)
            return BertForSequenceClassification(cfg), BertForMaskedLM(cfg)
        cfg = MistralConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                            max_position_embeddings=1024, sliding_window=None, num_labels=2, **size)
        return MistralForSequenceClassification(cfg), None


def save_mlm(mlm, tokenizer, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    mlm.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


# -- data ----------------------------------------------------------------------------------------
def load_examples(data_root: Path, task: str, n: int):
    return select_examples(read_labelled_csv(data_root / task / "test.csv", "test"), n, seed=0)


def classification_head(model) -> torch.nn.Linear:
    """The last Linear of the classifier; Mistral's has no bias, so it gets one (zero) to be centred."""
    if hasattr(model, "score"):  # Mistral
        if model.score.bias is None:
            old = model.score
            model.score = torch.nn.Linear(old.in_features, old.out_features, bias=True, device=old.weight.device,
                                          dtype=old.weight.dtype)
            with torch.no_grad():
                model.score.weight.copy_(old.weight)
                model.score.bias.zero_()
        return model.score
    head = model.classifier
    return head.out_proj if hasattr(head, "out_proj") else head  # Esm: dense -> out_proj; BERT: one Linear


@torch.no_grad()
def centre_head(victim: Victim, examples) -> dict:
    """Random weights give every sequence nearly the same logits, far from the decision boundary, so no
    10% edit flips anything (ASR 0 says nothing). Shift and scale the head once so that the clean margin
    logit1 - logit0 has median 0 and standard deviation 1 over the attacked sequences; the model is
    otherwise untouched and the same for every attack."""
    head = classification_head(victim.model)
    logits = torch.cat([victim.logits(chunk).float() for chunk in victim.batches([e.sequence for e in examples])])
    margin = (logits[:, 1] - logits[:, 0]).cpu()
    median, spread = float(margin.median()), float(margin.std())
    head.bias[1] -= median
    head.weight /= spread
    head.bias /= spread
    return {"margin_median_before": round(median, 6), "margin_std_before": round(spread, 6)}


def attacked_examples(victim: Victim, args, task: str):
    """(examples, head centring): the task's first --n sequences, the head centred on them, each labelled
    with its clean prediction."""
    examples = load_examples(args.data, task, args.n)
    centring = centre_head(victim, examples)
    return relabel_with_clean_predictions(victim, examples), centring


def relabel_with_clean_predictions(victim: Victim, examples):
    """A random classifier's classes are arbitrary: attack every example away from its clean prediction."""
    probs = victim.predict_proba([e.sequence for e in examples], use_cache=False)
    victim.clear_cache()
    return [dataclasses.replace(e, label=int(p.argmax())) for e, p in zip(examples, probs)]


# -- timing --------------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Split:
    """Wall time spent inside named callables (wrapped in place, restored after), to split an attack's time."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._wrapped: list[tuple[object, str, bool, object]] = []

    def wrap(self, obj, attr: str, label: str) -> None:
        inner = getattr(obj, attr)
        self._wrapped.append((obj, attr, attr in vars(obj), vars(obj).get(attr)))

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        setattr(obj, attr, timed)

    def restore(self) -> None:
        for obj, attr, own, original in reversed(self._wrapped):
            if own:
                setattr(obj, attr, original)
            else:
                delattr(obj, attr)


class ConfirmCount:
    """How many sequences the run re-scored in float32 (success confirmations and self-checks)."""

    def __init__(self, victim: Victim):
        self.victim, self.sequences = victim, 0
        inner = victim.submit

        def counted(sequences, use_cache=True, exact=False):
            self.sequences += len(sequences) if exact else 0
            return inner(sequences, use_cache, exact)

        victim.submit = counted

    def restore(self) -> None:
        del self.victim.submit


class SelfCheckLog:
    """The engine's self-check, counting instead of stopping the run (successes are decided in float32, so
    the count should be 0; before that, bf16 rounding between batch layouts made 13 successes fail it)."""

    def __init__(self):
        self.failures: list[str] = []
        self.original = engine.self_check

    def __call__(self, victim, finished) -> None:
        try:
            self.original(victim, finished)
        except engine.SelfCheckError:
            for item in finished:
                try:
                    self.original(victim, [item])
                except engine.SelfCheckError as err:
                    self.failures.append(str(err)[:300])


def plain_autocast(victim: Victim):
    """bf16 autocast with PyTorch's own attention dispatch (cuDNN allowed), for the ceiling's second reading."""
    return torch.autocast(victim.device.type, dtype=torch.bfloat16, enabled=victim.device.type == "cuda")


def tensor_forward_rate(victim: Victim, length: int, batch: int, seconds: float, context=None) -> float:
    """Sequences/s of the model alone on a pre-tokenised batch already on the device (no host work)."""
    rng = np.random.default_rng(1)
    encoded = victim.encoder.encode(["".join(rng.choice(list("ACGT"), length)) for _ in range(batch)], victim.device)
    with torch.inference_mode(), (context or victim._autocast)():
        victim._call(**encoded)
        sync(victim.device)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds or n == 0:
            victim._call(**encoded)
            n += batch
            if n % (batch * 4) == 0:
                sync(victim.device)  # keep the host's clock honest without a sync per pass
        sync(victim.device)
    return n / (time.perf_counter() - start)


def ceiling(victim: Victim, length: int, batches: list[int], seconds: float) -> dict:
    """Both forward rates at every batch size until out-of-memory; the best of each."""
    rows = []
    for batch in batches:
        try:
            row = {"batch": batch, "tensor_per_s": round(tensor_forward_rate(victim, length, batch, seconds), 1),
                   "tensor_default_attention_per_s": round(tensor_forward_rate(
                       victim, length, batch, seconds, lambda: plain_autocast(victim)), 1),
                   "strings_per_s": round(forward_rate(victim, length, batch, seconds), 1)}
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            rows.append({"batch": batch, "oom": True})
            break
        rows.append(row)
    ok = [r for r in rows if "oom" not in r]
    for r in ok:  # the ceiling: the faster of the victim's attention kernels and PyTorch's default choice
        r["best_per_s"] = max(r["tensor_per_s"], r["tensor_default_attention_per_s"])
    best = max(ok, key=lambda r: r["best_per_s"])
    best_strings = max(ok, key=lambda r: r["strings_per_s"])
    return {"length_nt": length, "sweep": rows, "best_batch": best["batch"], "queries_per_s": best["best_per_s"],
            "strings_best_batch": best_strings["batch"], "strings_queries_per_s": best_strings["strings_per_s"]}


def backoff_check(victim: Victim, length: int, n: int, start_batch: int, headroom_gib: float = 2.0) -> dict:
    """predict_proba with all but `headroom_gib` of the GPU's free memory taken by another tensor: the batch
    must halve on out-of-memory and finish (on CPU there is nothing to check)."""
    if victim.device.type != "cuda":
        return {"ok": None, "note": "no device memory to exhaust on CPU"}
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]
    saved, victim.batch_size = victim.batch_size, start_batch
    torch.cuda.empty_cache()
    free, total = torch.cuda.mem_get_info(victim.device)
    blocker = torch.empty(max(0, int(free - headroom_gib * 2**30)), dtype=torch.uint8, device=victim.device)
    t0 = time.perf_counter()
    try:
        probs = victim.predict_proba(seqs, use_cache=False)
        out = {"ok": bool(np.isfinite(probs).all()), "final_batch": victim.batch_size}
    except Exception as err:  # reported, not raised: the rest of the benchmark still runs
        out = {"ok": False, "error": f"{type(err).__name__}: {str(err)[:200]}", "final_batch": victim.batch_size}
    out.update({"start_batch": start_batch, "sequences": n, "length_nt": length,
                "seconds": round(time.perf_counter() - t0, 2),
                "left_free_gib": headroom_gib, "blocked_gib": round(blocker.numel() / 2**30, 1)})
    del blocker
    victim.batch_size = saved
    victim.clear_cache()
    torch.cuda.empty_cache()
    return out


def run_one(victim: Victim, cfg, examples, parallel: int | str, label: str, profile: Path | None = None,
            time_cap: float | None = None) -> dict:
    """One attack over `examples` (one at a time until `time_cap` seconds when given), timed and split."""
    spec = build_attack(victim, cfg)
    split = Split()
    split.wrap(victim, "_launch", "victim_tokenise_launch")
    split.wrap(_Launched, "numpy", "victim_wait_gpu")
    split.wrap(RecordWriter, "append", "records_fsync")
    if spec.candidate_filter is not None:
        split.wrap(spec.candidate_filter, "many", "filter_total")
    transformation = spec.transformation
    if spec.search is not None:  # the TextAttack bridge: the transformation lives in its runner
        transformation = spec.search.args[0].attack.transformation.inner
    if transformation is not None and hasattr(transformation, "mlm"):
        split.wrap(transformation, "prepare", "mlm_prepare")
        split.wrap(transformation, "prepare_many", "mlm_prepare_many")
    confirmed = ConfirmCount(victim)
    checks = SelfCheckLog()
    engine.self_check = checks
    profiler = None
    if profile is not None:
        from torch.profiler import ProfilerActivity

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if victim.device.type == "cuda" else [])
        profiler = torch.profiler.profile(activities=acts)
        profiler.__enter__()
    done = 0
    try:
        with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer, measured(victim) as m:
            if time_cap is None:
                run_attack(spec, victim, examples, writer, int(cfg.seed), "bench", parallel, False)
            else:  # TextAttack: one example after another until the time cap (at least two)
                start = time.perf_counter()
                while done < len(examples) and (done < 2 or time.perf_counter() - start < time_cap):
                    done += 1
                    run_attack(spec, victim, examples[:done], writer, int(cfg.seed), "bench", parallel, False)
            records = list(writer.records)
    finally:
        engine.self_check = checks.original
        split.restore()
        confirmed.restore()
        if profiler is not None:
            profiler.__exit__(None, None, None)
    busy = None
    if profiler is not None:
        averages = profiler.key_averages()
        kernels = [e for e in averages if str(getattr(e, "device_type", "")).endswith("CUDA")]  # not the ops too
        device_us = sum(getattr(e, "self_device_time_total", 0) for e in kernels)
        busy = round(device_us / 1e6 / m["seconds"], 3) if victim.device.type == "cuda" else None
        sort = "self_cuda_time_total" if victim.device.type == "cuda" else "self_cpu_time_total"
        profile.write_text(f"{label}: {len(examples)} sequences\n\nby device time\n"
                           + averages.table(sort_by=sort, row_limit=30)
                           + "\n\nby host time\n" + averages.table(sort_by="self_cpu_time_total", row_limit=30))
    attacked = [r for r in records if r["status"] != "skipped"]
    wins = [r for r in attacked if r["status"] == "success"]
    seconds = m["seconds"]
    split_s = dict(split.seconds)
    parts = {k: round(v, 3) for k, v in split_s.items()}
    inside = ("victim_tokenise_launch", "victim_wait_gpu", "records_fsync", "filter_total", "mlm_prepare",
              "mlm_prepare_many")
    parts["search_engine_python"] = round(seconds - sum(split_s.get(k, 0.0) for k in inside), 3)
    return {
        "attack": label, "examples": len(records), "attacked": len(attacked),
        "successes": len(wins), "asr": round(len(wins) / max(1, len(attacked)), 4),
        "seconds": round(seconds, 3), "sequences_per_s": round(len(records) / seconds, 4),
        "queries": m["queries"], "queries_per_s": round(m["queries"] / seconds, 1),
        "mean_batch": round(m["queries"] / max(1, m["forward_batches"]), 1), "final_victim_batch": victim.batch_size,
        "record_queries": int(sum(r["queries"] for r in records)),
        "queries_per_sequence": round(m["queries"] / max(1, len(records)), 1),
        "mean_perturbation": round(float(np.mean([r["perturbation_rate"] for r in wins])) if wins else 0.0, 4),
        "self_check_failures": len(checks.failures), "self_check_examples": checks.failures[:3],
        "float32_confirmations": confirmed.sequences,
        "peak_gpu_gib": m["peak_gpu_gib"], "time_split_s": parts, "gpu_busy_fraction": busy,
        "parallel": engine.resolve_parallel(parallel, victim),
        "success_by_id": {r["id"]: r["status"] == "success" for r in records},
    }


@contextmanager
def measured(victim: Victim):
    """Fresh cache and counters, peak memory reset; yields a dict filled with seconds/queries/peak memory."""
    victim.clear_cache()
    victim.queries, victim.forward_batches = 0, 0
    if victim.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(victim.device)
    sync(victim.device)
    out: dict = {}
    start = time.perf_counter()
    yield out
    sync(victim.device)
    out["seconds"] = time.perf_counter() - start
    out["queries"] = victim.queries
    out["forward_batches"] = victim.forward_batches
    out["peak_gpu_gib"] = (round(torch.cuda.max_memory_allocated(victim.device) / 2**30, 2)
                           if victim.device.type == "cuda" else None)


def compose_attack(model_group: str, attack: list[str], mlm: Path | None, device: torch.device, cache: Path):
    over = [f"model={model_group}", *attack, "attack.max_perturb_ratio=0.1", f"device={device}",
            f"cache_dir={cache}", "offline=1"]
    if mlm is not None:
        over.append(f"attack.mlm={mlm}")
    return compose(over)


# Our runs: (attack config, parallel). 'auto' is the product's default (128 on CUDA); 32 shows what
# fewer examples in flight cost.
OUR_RUNS = [("bertattack", 32), ("bertattack", "auto"), ("textfooler", "auto")]
# TextAttack's greedy word-swap search through the bridge with each attack's transformation.
TEXTATTACK_RUNS = [("bertattack", "mlm"), ("textfooler", "neighbours")]


def guarded(label: str, fn, *a, **kw) -> dict:
    """One measurement; an unexpected error is recorded (and printed) instead of ending the whole run."""
    try:
        return fn(*a, **kw)
    except Exception as err:  # the device time is scarce: keep the other measurements
        import traceback

        traceback.print_exc()
        return {"attack": label, "error": f"{type(err).__name__}: {str(err)[:300]}"}


def bench_victim(name: str, args, device: torch.device, work: Path, out: dict, save) -> None:
    _, group, task = VICTIMS[name]
    arch, tokenizer, tokenization = victim_tokenizer(name, args, work)
    t0 = time.perf_counter()
    model, mlm = build_models(arch, args.scale, tokenizer, device)
    if mlm is None:  # causal LM: BERT-Attack takes a DNABERT-2-size MLM on the same tokenizer
        _, mlm = build_models("bert", args.scale, tokenizer, device)
    mlm_dir = save_mlm(mlm.to(torch.bfloat16) if device.type == "cuda" else mlm, tokenizer, work / f"{name}-mlm")
    mlm_parameters = parameters(mlm)
    del mlm
    victim = Victim(model, SequenceEncoder(tokenizer, tokenization, 2048), name, device, "auto")
    out.update({"victim": name, "architecture": type(model).__name__, "parameters": parameters(model),
                "mlm_parameters": mlm_parameters, "task": task, "tokenizer": type(tokenizer).__name__,
                "default_batch": victim.batch_size, "vectorised_tokenisation": victim.encoder._lookup is not None,
                "backend_tokenisation": victim.encoder._backend is not None, "runs": []})
    examples, out["head_centring"] = attacked_examples(victim, args, task)
    out["build_seconds"] = round(time.perf_counter() - t0, 1)
    out["length_nt"] = int(np.median([len(e.sequence) for e in examples]))
    out["tokens_per_sequence"] = float(np.mean([len(victim.token_spans(e.sequence)) for e in examples[:64]]))
    out["clean_label_balance"] = float(np.mean([e.label for e in examples]))
    print(f"[{name}] {out['architecture']} {out['parameters'] / 1e6:.0f}M params, task {task}, "
          f"{out['tokens_per_sequence']:.1f} tokens/seq, built in {out['build_seconds']} s", flush=True)
    out["ceiling"] = ceiling(victim, out["length_nt"], args.batches, args.ceiling_seconds)
    print(f"[{name}] ceiling {out['ceiling']['queries_per_s']:.0f} q/s at batch {out['ceiling']['best_batch']}"
          f" (from strings: {out['ceiling']['strings_queries_per_s']:.0f} at {out['ceiling']['strings_best_batch']})",
          flush=True)
    save()
    cache = work / "cache"
    runs = out["runs"]
    for attack, parallel in args.runs:
        cfg = compose_attack(group, [f"attack={attack}"], mlm_dir if attack == "bertattack" else None, device, cache)
        label = f"{name}_{attack}_p{parallel}"
        runs.append(guarded(label, run_one, victim, cfg, examples, parallel, label))
        save()
        r = runs[-1]
        if "error" in r:
            continue
        # the model alone, from strings, at the batch size the attack actually sent: what its passes could do
        r["strings_per_s_at_mean_batch"] = round(forward_rate(victim, out["length_nt"], max(1, int(r["mean_batch"])),
                                                              args.ceiling_seconds), 1)
        save()
        share = r["queries_per_s"] / out["ceiling"]["queries_per_s"]
        print(f"[{name}] ours {label}: {r['queries_per_s']:.0f} q/s ({share:.2f}"
              f" of ceiling; {r['strings_per_s_at_mean_batch']:.0f} from strings at its mean batch"
              f" {r['mean_batch']}), {r['sequences_per_s']:.2f} seq/s, ASR {r['asr']:.3f}, {r['queries_per_sequence']} q/seq, "
              f"self-check failures {r['self_check_failures']}, split {r['time_split_s']}", flush=True)
    for attack, transformation in TEXTATTACK_RUNS if args.textattack_seconds > 0 else []:
        cfg = compose_attack(group, ["attack=textattack", "attack.search=greedy",
                                     f"attack.transformation={transformation}"],
                             mlm_dir if transformation == "mlm" else None, device, cache)
        run = guarded(f"{name}_textattack-{attack}", run_one, victim, cfg, examples, int(cfg.attack.parallel),
                      f"{name}_textattack-{attack}", time_cap=args.textattack_seconds)
        run["compares_with"] = attack
        runs.append(run)
        save()
        if "error" in run:
            continue
        print(f"[{name}] TextAttack {attack}: {run['examples']} sequences, {run['queries_per_s']:.0f} q/s, "
              f"{run['sequences_per_s']:.3f} seq/s, ASR {run['asr']:.3f}, split {run['time_split_s']}", flush=True)
    for attack in ("bertattack", "textfooler") if args.processes > 1 else ():
        run = guarded(f"{name}_{attack}_{args.processes}processes", sharded, name, args, attack,
                      mlm_dir if attack == "bertattack" else None, args.processes)
        out.setdefault("sharded_runs", []).append(run)
        save()
        if "error" not in run:
            print(f"[{name}] {attack} in {args.processes} processes: {run['queries_per_s']:.0f} q/s "
                  f"({run['queries_per_s'] / out['ceiling']['queries_per_s']:.2f} of ceiling), "
                  f"{run['sequences_per_s']:.1f} seq/s, ASR {run['asr']:.3f}", flush=True)
    if args.profile_dir is not None:
        cfg = compose_attack(group, ["attack=bertattack"], mlm_dir, device, cache)
        out["profiled_run"] = guarded("profiled", run_one, victim, cfg, examples[:64], "auto",
                                      f"{name}_bertattack_pauto_profiled", args.profile_dir / f"profile_{name}.txt")
        out["profiled_run"].pop("success_by_id", None)
    out["backoff"] = backoff_check(victim, out["length_nt"], args.backoff_n, args.backoff_batch)
    print(f"[{name}] out-of-memory back-off: {out['backoff']}", flush=True)
    save()
    del victim, model
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _shard_worker(name: str, args, attack: str, mlm_dir: str | None, shard: int, shards: int, barrier, results) -> None:
    """One process of `sharded`: the same victim (same seed, same head centring, same labels), its shard."""
    _, group, task = VICTIMS[name]
    device = torch.device(args.device)
    arch, tokenizer, tokenization = victim_tokenizer(name, args, Path(tempfile.mkdtemp()))
    model, _ = build_models(arch, args.scale, tokenizer, device)
    victim = Victim(model, SequenceEncoder(tokenizer, tokenization, 2048), name, device, "auto")
    mine = attacked_examples(victim, args, task)[0][shard::shards]
    cfg = compose_attack(group, [f"attack={attack}"], mlm_dir and Path(mlm_dir), device, Path(tempfile.mkdtemp()))
    spec = build_attack(victim, cfg)
    victim.clear_cache()
    victim.queries = 0
    barrier.wait()  # every process built and warmed: the clock starts now
    with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer:
        run_attack(spec, victim, mine, writer, int(cfg.seed), "bench", "auto", False)
        records = list(writer.records)
    sync(device)
    results.put({"shard": shard, "examples": len(records), "queries": victim.queries,
                 "successes": sum(r["status"] == "success" for r in records),
                 "attacked": sum(r["status"] != "skipped" for r in records)})


def sharded(name: str, args, attack: str, mlm_dir: Path | None, shards: int) -> dict:
    """The attack split over `shards` processes sharing the GPU, as `dataset.shard=i/n` jobs would run:
    wall time from the common start to the last shard's end (model building excluded)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(shards + 1), ctx.Queue()
    procs = [ctx.Process(target=_shard_worker, args=(name, args, attack, mlm_dir and str(mlm_dir), i, shards,
                                                     barrier, results)) for i in range(shards)]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)
    start = time.perf_counter()
    parts = [results.get(timeout=600) for _ in procs]
    seconds = time.perf_counter() - start
    for p in procs:
        p.join()
    n, queries = sum(p["examples"] for p in parts), sum(p["queries"] for p in parts)
    attacked = sum(p["attacked"] for p in parts)
    return {"attack": f"{name}_{attack}_{shards}processes", "processes": shards, "examples": n,
            "seconds": round(seconds, 3), "sequences_per_s": round(n / seconds, 4), "queries": queries,
            "queries_per_s": round(queries / seconds, 1),
            "asr": round(sum(p["successes"] for p in parts) / max(1, attacked), 4)}


def versions() -> dict:
    import transformers

    out = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
           "numpy": np.__version__}
    try:
        from importlib.metadata import version

        out["textattack"] = version("textattack")
    except Exception:  # not installed: the TextAttack runs are skipped
        out["textattack"] = None
    if torch.cuda.is_available():
        out["cuda"] = torch.version.cuda
    return out


def ratios(result: dict) -> list[dict]:
    """One row per run of ours: vs the ceiling; vs TextAttack's run of the same attack on the sequences it
    finished (the first ones of ours), sequences/s and ASR on exactly those sequences."""
    rows = []
    for v in result["victims"]:
        if "ceiling" not in v:
            continue
        ceil = v["ceiling"]
        for run in v.get("runs", []):
            if "compares_with" in run or "error" in run:
                continue
            attack = run["attack"].split("_")[1].split("-")[0]
            row = {"victim": v["victim"], "attack": attack, "parallel": run["parallel"],
                   "q_per_s": run["queries_per_s"], "ceiling_q_per_s": ceil["queries_per_s"],
                   "over_ceiling": round(run["queries_per_s"] / ceil["queries_per_s"], 3),
                   "over_strings_ceiling": round(run["queries_per_s"] / ceil["strings_queries_per_s"], 3),
                   "seq_per_s": run["sequences_per_s"], "asr": run["asr"], "q_per_seq": run["queries_per_sequence"],
                   "peak_gpu_gib": run["peak_gpu_gib"], "self_check_failures": run["self_check_failures"],
                   "mean_batch": run["mean_batch"], "strings_per_s_at_mean_batch": run.get("strings_per_s_at_mean_batch"),
                   "float32_confirmations": run.get("float32_confirmations")}
            ta = next((r for r in v["runs"] if r.get("compares_with") == attack and "error" not in r), None)
            if ta is not None:
                ids = list(ta["success_by_id"])
                row.update({"ta_examples": len(ids), "ta_seq_per_s": ta["sequences_per_s"], "ta_asr": ta["asr"],
                            "asr_same_sequences": round(float(np.mean([run["success_by_id"][i] for i in ids])), 4),
                            "over_ta_seq": round(run["sequences_per_s"] / ta["sequences_per_s"], 1)})
            rows.append(row)
    return rows


def parse_runs(text: str) -> list[tuple[str, int | str]]:
    """'bertattack:32,textfooler:auto' -> [(attack, parallel), ...]"""
    out = []
    for item in text.split(","):
        attack, parallel = item.split(":")
        out.append((attack, parallel if parallel == "auto" else int(parallel)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--victims", default=",".join(VICTIMS))
    p.add_argument("--runs", type=parse_runs, default=OUR_RUNS,
                   help="our runs, attack:parallel,... (default: %(default)s)")
    p.add_argument("--scale", choices=("real", "tiny"), default="real")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--n", type=int, default=256, help="sequences per attack of ours")
    p.add_argument("--textattack-seconds", type=float, default=10.0,
                   help="TextAttack runs attack one sequence after another until this many seconds (at least 2)")
    p.add_argument("--batches", type=lambda t: [int(x) for x in t.split(",")], default=[512, 1024, 2048, 4096])
    p.add_argument("--ceiling-seconds", type=float, default=1.0)
    p.add_argument("--backoff-n", type=int, default=20000)
    p.add_argument("--backoff-batch", type=int, default=16384, help="batch size the back-off check starts from")
    p.add_argument("--data", type=Path, default=REPO / ".carry" / "gue")
    p.add_argument("--tokenizer", type=Path, default=REPO / ".carry" / "hf" / "dnabert2-tokenizer")
    p.add_argument("--processes", type=int, default=0,
                   help="also run each attack split over this many processes on the one GPU (0: not)")
    p.add_argument("--profile", action="store_true",
                   help="torch.profiler tables of BERT-Attack (parallel auto) on 64 sequences per victim")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.profile_dir = args.out if args.profile else None
    device = torch.device(args.device)
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "device": device_name(device),
              "versions": versions(), "argv": sys.argv[1:], "cpu_count": os.cpu_count(),
              "load_average": os.getloadavg(), "victims": []}

    def save() -> None:
        try:
            result["table"] = ratios(result)
        except (KeyError, ZeroDivisionError, StopIteration):  # a victim still half measured
            pass
        (args.out / "gpu_attack.json").write_text(json.dumps(result, indent=1))

    with tempfile.TemporaryDirectory() as tmp:
        for name in args.victims.split(","):
            result["victims"].append({"victim": name})
            try:
                bench_victim(name, args, device, Path(tmp), result["victims"][-1], save)
            except Exception as err:  # record it and go on to the next victim
                import traceback

                traceback.print_exc()
                result["victims"][-1]["error"] = f"{type(err).__name__}: {str(err)[:300]}"
            save()
    result["load_average_end"] = os.getloadavg()
    (args.out / "gpu_attack.json").write_text(json.dumps(result, indent=1))
    for row in result.get("table", []):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
