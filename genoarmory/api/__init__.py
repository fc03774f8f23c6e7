"""GenoArmory's Python API: what the commands do, callable from a notebook.

    import genoarmory as ga
    victim = ga.Victim.wrap(model, tokenizer)              # or ga.Victim.from_pretrained("runs/.../model")
    result = ga.attack(victim, sequences, labels, attack="bertattack", max_perturb_ratio=0.05)
    result.records, result.summary, result.to_pandas(), result.save("runs/mine")
    ga.certify(victim, task=task, noise=0.1), ga.corrupt(victim, task=task), ga.transfer([run_a, run_b])

The commands call these same functions (api/pipeline.py, api/defense.py, api/run_certify.py,
api/run_corrupt.py, api/run_transfer.py): one path, not two. Names are imported on first use, so
`import genoarmory` stays light (no torch until a model is needed). (Modules are named run_* so that a
submodule never shadows the function of its name.)
"""

from __future__ import annotations

import importlib

EXPORTS = {
    "Victim": "genoarmory.api.victim",
    "embedded_model": "genoarmory.api.victim",
    "attack": "genoarmory.api.run_attack",
    "AttackResult": "genoarmory.api.run_attack",
    "load_task": "genoarmory.api.tasks",
    "read": "genoarmory.api.runs",
    "visualize": "genoarmory.api.runs",
    "defend": "genoarmory.api.defense",
    "certify": "genoarmory.api.run_certify",
    "CertifyResult": "genoarmory.api.run_certify",
    "corrupt": "genoarmory.api.run_corrupt",
    "CorruptionResult": "genoarmory.api.run_corrupt",
    "transfer": "genoarmory.api.run_transfer",
    "TransferResult": "genoarmory.api.run_transfer",
}
__all__ = list(EXPORTS)


def __getattr__(name: str):
    if name not in EXPORTS:
        raise AttributeError(f"module 'genoarmory.api' has no attribute {name!r}")
    return getattr(importlib.import_module(EXPORTS[name]), name)
