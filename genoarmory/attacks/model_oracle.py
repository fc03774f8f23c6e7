"""`attack.oracle=DIR`: a classifier the user trusts (e.g. a larger model) as the label oracle.

Its prediction on the adversarial sequence must keep its prediction on the original. It is reported as a
trusted model, never as the truth (`exact` is False). Loaded like any victim: `attack.oracle_model=<conf
model name>` names its family (default: the victim's), trust_remote_code only from the user's model flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ModelOracle:
    victim: object
    folder: str
    exact: bool = False

    @property
    def name(self) -> str:
        return f"trusted model {self.folder}"

    def labels(self, sequences: list[str]) -> np.ndarray:
        return self.victim.predict_proba(sequences).argmax(-1)

    def describe(self) -> dict:
        return {"name": self.name, "kind": "label", "exact": False, "path": self.folder}


def model_oracle(cfg, task) -> ModelOracle | None:
    folder = cfg.attack.get("oracle")
    if not folder:
        return None
    from omegaconf import OmegaConf

    from genoarmory.models.load import load_victim

    model = OmegaConf.to_container(cfg.model, resolve=True)
    if cfg.attack.get("oracle_model"):
        from genoarmory.config import CONF_DIR

        model = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / f"{cfg.attack.oracle_model}.yaml"))
        model["trust_remote_code"] = bool(cfg.model.get("trust_remote_code", False))
    model.update(path=str(folder), quantize=None, name=f"oracle:{folder}")
    oracle_cfg = OmegaConf.merge(cfg, {"model": model})
    return ModelOracle(load_victim(oracle_cfg, task), str(folder))
