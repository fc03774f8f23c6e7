"""Shared fixtures. Tests run offline, in-process, with a private model cache per session."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the checkout (CI's layout); GENOARMORY_SHARED points elsewhere (a git worktree, say)
SHARED = Path(os.environ.get("GENOARMORY_SHARED") or REPO.parent / "shared")


def pytest_configure(config):
    # Never touch the user's cache or the network from tests.
    os.environ.setdefault("GENOARMORY_CACHE", tempfile.mkdtemp(prefix="genoarmory-test-cache-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    # transformers copies remote model code into a module cache: keep the tests' copies out of the user's
    os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix="genoarmory-test-modules-"))
    # One math thread per process: tests start subprocesses and joblib workers on 2 cores, and oversubscribed
    # OpenMP threads spin (measured here: a tiny training step went from 19 ms to 1.7 s under contention).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} absent (real GUE data and fixtures live there; a fresh clone does not have it)")
    return SHARED


from genoarmory.testing import compose, embedded_default  # noqa: E402,F401  (shared by the tests)


def run_cli(*argv: str) -> int:
    """Run `python -m genoarmory ...` in-process; returns the exit code (SystemExit included)."""
    from genoarmory.__main__ import main

    try:
        return main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)


# Quick settings for a tiny model: enough to exercise every code path, not to be accurate.
QUICK_TRAIN = ["train.max_train=800", "train.epochs=2", "model.pretrain_mlm_epochs=1", "dataset.loader.n_train=1000",
               "model.arch.hidden_size=32", "model.arch.intermediate_size=64", "model.arch.num_hidden_layers=1",
               "model.arch.num_attention_heads=2"]


@pytest.fixture(scope="session")
def quick_tiny_model(tmp_path_factory) -> Path:
    """A tiny-6mer trained quickly on motif/tata: a run folder with model/ and mlm/ (HF layout)."""
    run_dir = tmp_path_factory.mktemp("quick-tiny")
    assert run_cli("train", "model=tiny-6mer", "dataset=motif/tata", f"run_dir={run_dir}", "progress=false",
                   *QUICK_TRAIN) == 0
    return run_dir


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt fails at once and is counted: a test can prove there is no retry loop."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise socket.gaierror("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture(params=["offline", "online"])
def blocked_hub(request, monkeypatch, no_network):
    """HF_HUB_OFFLINE=1, or offline mode off with the network blocked: both must end in the same clear line."""
    if request.param == "offline":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        from huggingface_hub import constants

        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return SimpleNamespace(mode=request.param, attempts=no_network)
