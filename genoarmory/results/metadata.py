"""What produced a result: versions, commit, device, date (summary.json, metrics.json, entries)."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from genoarmory.config import config_hash


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict:
    import numpy
    import torch
    import transformers

    import genoarmory

    return {"genoarmory": genoarmory.__version__, "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "numpy": numpy.__version__}


def device_name(device) -> str:
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def run_metadata(config: dict, device) -> dict:
    return {"config": config, "config_hash": config_hash(config), "versions": versions(),
            "commit": git_commit(), "device": device_name(device),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
