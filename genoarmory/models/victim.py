"""`Victim`: one classifier + its encoder, queried in large batches, cached, counted.

Everything an attack or a defense needs from a model goes through here: probabilities for many
sequences at once, token -> nucleotide spans, and input-embedding access for gradient attacks.

`submit` queues a request's forward passes and returns at once (on CUDA the host is free while the GPU
works: ids arrive through pinned memory, probabilities leave in one copy at the end, no sync per batch);
`predict_proba` is `submit(...).result()`. The attack engine keeps two requests in flight so the
searches' Python runs while the GPU computes.

On CUDA the tokenising and launching itself runs on one launcher thread, in submission order: a big
request fills the GPU's launch queue, and the thread that launches then waits there until the GPU has
room (measured on an H200: NT v2's BERT-Attack spent 6.9 of its 9.8 s inside `victim.launch`, the GPU's
whole share, and the searches' 1.6 s of Python came after it instead of beside it; RESULTS.md run 9).
That wait does not hold Python's GIL, so the engine's searches run meanwhile (run 9, with this thread against
without: NT v2's BERT-Attack 7,556 against 7,198 queries/s, DNABERT-2's 16,779 against 10,498). The
thread only ever runs `_launch` (the model's forward under no_grad, and the compiled forward, which
never changes the model: compiled.py), so other code may run the model on the calling thread at the
same time. CPU victims launch on the calling thread, as before.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator

import numpy as np
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from genoarmory.models.compiled import CompiledForward, sharing_twin
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.families import query_module
from genoarmory.models.forward import forward_from_embeddings, logits_and_last_hidden_states
from genoarmory.observe import LAUNCHER, Observer, span

DEFAULT_BATCH = {"cpu": 256, "cuda": 1024}
CACHE_SIZE = 500_000  # sequences; probabilities are tiny, the sequences dominate (~100 MB at 200 nt)
AHEAD_KEPT = 65_536  # `score_ahead` entries: a filter's kept candidates are queried at its search's next step


def pick_device(name: str = "auto") -> torch.device:
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Victim:
    def __init__(self, model: torch.nn.Module, encoder: SequenceEncoder, name: str,
                 device: torch.device | str = "cpu", batch_size: int | str = "auto", info: dict | None = None,
                 compile: bool | str = False):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.encoder = encoder
        self.name = name
        self.info = dict(info or {})  # where the weights came from, quantization, ...
        self.num_labels = int(model.config.num_labels)
        self.batch_size = int(DEFAULT_BATCH[self.device.type] if batch_size in (None, "auto") else batch_size)
        self.queries = 0  # sequences sent through the model (cache hits excluded)
        self.forward_batches = 0  # forward passes those queries took
        self._counting = threading.Lock()  # both threads count (`_count`)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        params = inspect.signature(model.forward).parameters
        self._takes_mask = "attention_mask" in params
        self.observer: Observer | None = None  # observe.py: named time spans (benchmarks, profiles)
        self.launch_thread = self.device.type == "cuda"  # launch on a thread of its own (module docstring)
        self._launcher: ThreadPoolExecutor | None = None  # that thread, started at first use
        # bf16 queries on CUDA run through `query_model`: the model, or the same layers without host syncs
        # (DNABERT-2: families.query_module); with model.compile=auto, through torch.compile of it
        # (compiled.py). Float32 passes and every CPU run take the model's own forward, so CPU records and
        # success decisions are the model's own
        self.query_model = query_module(self.model) if self.device.type == "cuda" else self.model
        self.compiled = (CompiledForward(self.query_model, encoder, self._takes_mask)
                         if compile in (True, "auto") and self.device.type == "cuda" else None)
        self._filter_model: torch.nn.Module | None = None  # `logits_and_states`' own twin, made at first use
        # probabilities a filter's pass computed for candidates it kept (`score_ahead`): a query of one of them
        # takes them from here, counted then, instead of a second pass
        self._ahead: OrderedDict[str, np.ndarray] = OrderedDict()

    # -- queries ---------------------------------------------------------------------------------
    @property
    def reduced_precision(self) -> bool:
        """Whether queries run below float32 (bf16 autocast on CUDA): their probabilities then depend on how
        sequences are batched, by rounding. Successes are decided by an `exact` pass instead (search.py)."""
        return self.device.type == "cuda"

    def predict_proba(self, sequences: list[str], use_cache: bool = True, exact: bool = False) -> np.ndarray:
        """Class probabilities, shape [n, num_labels], float32. Duplicates and cached sequences cost nothing.
        `exact`: a fresh float32 pass (no autocast, cache neither read nor filled)."""
        return self.submit(sequences, use_cache, exact).result()

    def submit(self, sequences: list[str], use_cache: bool = True, exact: bool = False) -> "PendingProbs":
        """Start scoring `sequences`; `.result()` on the returned object gives `predict_proba`'s answer.
        Sequences first seen after this call was made are not deduplicated against it."""
        use_cache = use_cache and not exact
        hits = [self._cache.get(s) for s in sequences] if use_cache else [None] * len(sequences)
        todo: dict[str, list[int]] = {}
        for i, (s, hit) in enumerate(zip(sequences, hits)):
            if hit is None:
                todo.setdefault(s, []).append(i)
        if self._ahead and use_cache:
            self._take_ahead(todo, hits)
        fresh = list(todo)
        launched = self._start(fresh, exact) if fresh else None
        return PendingProbs(self, len(sequences), hits, todo, fresh, launched, use_cache)

    def _start(self, fresh: list[str], exact: bool) -> "_Launched | Future":
        """`_launch(fresh, exact)`, on the launcher thread where `launch_thread` (CUDA), else here."""
        kind = "exact" if exact else "launch"
        if not self.launch_thread:
            return self._launch_observed(fresh, exact, "victim." + kind)
        if self._launcher is None:
            self._launcher = ThreadPoolExecutor(1, thread_name_prefix="genoarmory-launch")
        with span(self.observer, "victim." + kind, len(fresh)):  # here only the hand-over: the work is `launcher.*`
            return self._launcher.submit(self._launch_observed, fresh, exact, LAUNCHER + kind)

    def _launch_observed(self, fresh: list[str], exact: bool, name: str) -> "_Launched":
        with span(self.observer, name, len(fresh)):
            return self._launch(fresh, exact)

    def _take_ahead(self, todo: dict[str, list[int]], hits: list) -> None:
        """Queries answered by `score_ahead`'s probabilities: counted as queries now, the model's pass done."""
        taken = [s for s in todo if s in self._ahead]
        probs = [self._ahead.pop(s) for s in taken]
        for s, row in zip(taken, probs):
            for i in todo.pop(s):
                hits[i] = row
        self._remember_all(taken, probs)  # cached as any query's answer, under the cache's bound
        self._count(len(taken), 0)

    def score_ahead(self, sequences: list[str], probs: np.ndarray) -> None:
        """Probabilities of `sequences` from a bf16 pass already made (TextFooler's filter: its encoder pass is
        the query's, `logits_and_states`); a later query of one of them is answered with them. Not counted
        until queried: a candidate the search never asks for is no query."""
        self._ahead.update(zip(sequences, probs))
        while len(self._ahead) > AHEAD_KEPT:
            self._ahead.popitem(last=False)

    @torch.no_grad()
    def logits_and_states(self, sequences: list[str]) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """One bf16 query pass over one batch, eager: (logits, the encoder's last hidden states [n, T, d], the
        encoded batch). It runs in a twin of the query model that shares its weights (compiled.sharing_twin),
        so the hook that keeps the states (forward.logits_and_last_hidden_states) never meets the launcher
        thread's passes."""
        if self._filter_model is None:
            own = getattr(self.query_model, "logits_and_states", None) is not None
            self._filter_model = self.query_model if own else sharing_twin(self.query_model)
        batch = self.encoder.encode(sequences, self.device)
        with self._autocast():
            logits, states = logits_and_last_hidden_states(self._filter_model, batch)
        self._count(0, 1)
        return logits, states, batch

    def _remember_all(self, sequences: list[str], probs: np.ndarray) -> None:
        self._cache.update(zip(sequences, probs))
        while len(self._cache) > CACHE_SIZE:  # first in, first out
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        self._cache.clear()
        self._ahead.clear()

    # no_grad, not inference_mode: a model may cache tensors during a query (HF Esm's rotary tables, NT v2)
    # and inference-mode tensors cannot enter the gradient passes FIMBA and PGD make later on the same model
    @torch.no_grad()
    def _launch(self, sequences: list[str], exact: bool = False) -> "_Launched":
        """Queue every batch's forward pass, length-bucketed; nothing waits for the device here. The batch
        size halves on CUDA out-of-memory (raised when a batch allocates, so still caught here) and carries on."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        parts: list[tuple[list[int], torch.Tensor]] = []
        start = 0
        while start < len(order):
            idx = order[start:start + self.batch_size]
            try:
                logits = self.logits([sequences[i] for i in idx], exact)
            except torch.OutOfMemoryError:
                if self.batch_size == 1:
                    raise
                torch.cuda.empty_cache()
                self.batch_size //= 2
                continue
            parts.append((idx, torch.softmax(logits.float(), dim=-1)))
            self._count(len(idx), 1)
            start += len(idx)
        return _Launched(len(sequences), self.num_labels, parts, self.device, self.observer)

    def _count(self, queries: int, batches: int) -> None:
        with self._counting:
            self.queries += queries
            self.forward_batches += batches

    def logits(self, sequences: list[str], exact: bool = False) -> torch.Tensor:
        """Raw logits for one batch (no cache, no counting): used by training and gradient attacks.
        `exact`: float32 even where queries normally run in bf16."""
        compiled = None if exact else self.compiled
        batch = self.encoder.encode(sequences, self.device, drop_full_mask=compiled is None)
        with self._autocast(exact):
            if compiled is not None:
                return compiled(**batch)
            return self._call(**batch, model=self.model if exact else self.query_model)

    def _call(self, input_ids=None, attention_mask=None, inputs_embeds=None, model=None) -> torch.Tensor:
        kwargs = {"input_ids": input_ids} if inputs_embeds is None else {"inputs_embeds": inputs_embeds}
        if self._takes_mask and attention_mask is not None:
            kwargs["attention_mask"] = attention_mask
        return (model or self.model)(**kwargs).logits

    def _autocast(self, exact: bool = False):
        """bf16 autocast on CUDA (float32 when `exact`), with scaled-dot-product attention kept off cuDNN:
        cuDNN's kernel sets up a plan for every new (batch, length), and attack batches change shape at every
        step (on an H200 that cost ~35 ms of host time per forward pass of a 12-layer BERT; RESULTS.md)."""
        if self.device.type == "cuda":
            return CudaInference(None if exact else torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    # -- structure -------------------------------------------------------------------------------
    def token_spans(self, sequence: str):
        return self.encoder.token_spans(sequence)

    def input_embeddings(self) -> torch.nn.Embedding:
        return self.model.get_input_embeddings()

    def embed(self, sequences: list[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(input embeddings [n, T, d], the encoded batch) — the start point of gradient attacks."""
        batch = self.encoder.encode(sequences, self.device)
        return self.input_embeddings()(batch["input_ids"]), batch

    def forward_from_embeddings(self, embeds: torch.Tensor, attention_mask: torch.Tensor | None,
                                input_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Logits from input embeddings (of `input_ids`, perturbed), through the path the model's own code
        supports (models/forward.py: `inputs_embeds`, or a hook on its embedding layer that needs the ids)."""
        with self._autocast():
            return forward_from_embeddings(self.model, embeds, input_ids, attention_mask)

    def batches(self, sequences: list[str], size: int | None = None) -> Iterator[list[str]]:
        size = size or self.batch_size
        for i in range(0, len(sequences), size):
            yield sequences[i:i + size]


class CudaInference(contextlib.ExitStack):
    """`with`: autocast to `dtype` (None: float32) + attention on the flash / memory-efficient / math kernels
    (not cuDNN)."""

    BACKENDS = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]

    def __init__(self, dtype: torch.dtype | None = torch.bfloat16):
        super().__init__()
        self.dtype = dtype

    def __enter__(self):
        super().__enter__()
        self.enter_context(torch.autocast("cuda", dtype=self.dtype or torch.float32, enabled=self.dtype is not None))
        self.enter_context(shared_attention_backends(self.BACKENDS))
        return self


class _SharedBackends:
    """State of `shared_attention_backends`: how many are inside, and the `sdpa_kernel` context they share."""

    lock = threading.Lock()
    inside = 0
    context: contextlib.ExitStack | None = None


@contextlib.contextmanager
def shared_attention_backends(backends: list) -> Iterator[None]:
    """`sdpa_kernel(backends)` for every thread inside at once. Its flags are process-wide, not per thread, so
    with the launcher thread's queries running beside the calling thread's filter or masked LM, one thread
    leaving its own `sdpa_kernel` would restore the flags (cuDNN included) under the other's forward pass:
    here the first to enter sets them and the last to leave restores them. (All callers ask for the same
    backends: CudaInference.BACKENDS.)"""
    with _SharedBackends.lock:
        if _SharedBackends.inside == 0:
            _SharedBackends.context = contextlib.ExitStack()
            _SharedBackends.context.enter_context(sdpa_kernel(backends))
        _SharedBackends.inside += 1
    try:
        yield
    finally:
        with _SharedBackends.lock:
            _SharedBackends.inside -= 1
            if _SharedBackends.inside == 0:
                _SharedBackends.context.close()
                _SharedBackends.context = None


class _Launched:
    """Probabilities of one `_launch`, still on the device: one copy to the host, started now."""

    def __init__(self, n: int, num_labels: int, parts: list[tuple[list[int], torch.Tensor]], device: torch.device,
                 observer: Observer | None = None):
        self.n, self.num_labels, self.observer = n, num_labels, observer
        self.rows = np.fromiter((i for idx, _ in parts for i in idx), dtype=np.int64, count=n)
        self.event = None
        if not parts:
            self.host = torch.empty((0, num_labels))
        elif device.type == "cuda":
            probs = torch.cat([p for _, p in parts])
            self.host = torch.empty(probs.shape, dtype=probs.dtype, pin_memory=True)
            self.host.copy_(probs, non_blocking=True)
            self.event = torch.cuda.Event()
            self.event.record()
        else:
            self.host = torch.cat([p for _, p in parts])

    def numpy(self) -> np.ndarray:
        if self.event is not None:
            with span(self.observer, "victim.wait"):
                self.event.synchronize()
        out = np.empty((self.n, self.num_labels), dtype=np.float32)
        out[self.rows] = self.host.numpy()
        return out


class PendingProbs:
    """A `Victim.submit` in flight; `result()` waits for it, fills the cache, returns [n, num_labels]."""

    def __init__(self, victim: Victim, n: int, hits: list, todo: dict[str, list[int]], fresh: list[str],
                 launched: "_Launched | Future | None", use_cache: bool):
        self.victim, self.n, self.hits, self.todo, self.fresh = victim, n, hits, todo, fresh
        self.launched, self.use_cache = launched, use_cache
        self._out: np.ndarray | None = None

    def result(self) -> np.ndarray:
        if self._out is not None:
            return self._out
        out = np.empty((self.n, self.victim.num_labels), dtype=np.float32)
        cached = [i for i, hit in enumerate(self.hits) if hit is not None]
        if cached:
            out[cached] = np.stack([self.hits[i] for i in cached])
        if self.fresh:
            launched = self.launched
            if isinstance(launched, Future):  # still on the launcher thread: wait for its hand-back
                with span(self.victim.observer, "victim.wait"):
                    launched = launched.result()
            probs = launched.numpy()
            positions = [self.todo[s] for s in self.fresh]
            rows = np.fromiter((i for pos in positions for i in pos), dtype=np.int64)
            source = np.repeat(np.arange(len(self.fresh)), [len(pos) for pos in positions])
            out[rows] = probs[source]
            if self.use_cache:
                self.victim._remember_all(self.fresh, probs)
        self._out, self.hits, self.launched = out, None, None
        return out
