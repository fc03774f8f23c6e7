"""Composition: every option of every config group composes to exactly the values committed in
tests/data/composed_groups.json (key by key), and each command's primary config composes the parts it
needs. A deliberate change to a config shows here as a diff; regenerate the file with

    GENOARMORY_UPDATE_GOLDEN=1 python -m pytest -q tests/test_config_composition.py

and say in the commit which values changed and why.
"""

from __future__ import annotations

import json
import os

import pytest

from genoarmory.config import CONF_DIR, plain_config
from genoarmory.config_compose import compose_checked

GOLDEN = CONF_DIR.parents[1] / "tests" / "data" / "composed_groups.json"
GROUPS = {"model": "attack", "dataset": "attack", "attack": "attack", "defense": "defend"}
ENV = ("GENOARMORY_DATA_ROOT", "GENOARMORY_GENOADV", "HF_HUB_OFFLINE", "GENOARMORY_CACHE")


def options(group: str) -> list[str]:
    return sorted(str(p.relative_to(CONF_DIR / group).with_suffix("")) for p in (CONF_DIR / group).rglob("*.yaml")
                  if not p.name.startswith("_"))


def composed_groups() -> dict:
    """{'<group>=<option>': that group's composed node} plus each command's run-wide keys."""
    out = {}
    for command in ("attack", "train", "defend"):
        cfg = plain_config(compose_checked(command, []))
        out[f"{command} (no overrides)"] = cfg
    for group, command in GROUPS.items():
        for option in options(group):
            out[f"{group}={option}"] = plain_config(compose_checked(command, [f"{group}={option}"]))[group]
    return out


def flat(node, prefix=""):
    if isinstance(node, dict) and node:
        return {k: v for key, value in node.items() for k, v in flat(value, f"{prefix}.{key}" if prefix else key).items()}
    return {prefix: node}


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_every_group_option_composes_to_the_committed_values(clean_env):
    got = composed_groups()
    if os.environ.get("GENOARMORY_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert sorted(got) == sorted(want), "options added or removed: regenerate the golden file (module note)"
    changed = []
    for name in want:
        a, b = flat(want[name]), flat(got[name])
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b or a[key] != b[key] or type(a[key]) is not type(b[key]):
                changed.append(f"{name}: {key}: {a.get(key, '<absent>')!r} -> {b.get(key, '<absent>')!r}")
    assert not changed, "\n".join(changed[:40])


def test_the_golden_file_covers_every_option():
    want = json.loads(GOLDEN.read_text())
    assert len([k for k in want if k.startswith("dataset=")]) == 64  # + csv (your own CSV)
    assert {k for k in want if k.startswith("attack=")} == {f"attack={a}" for a in
                                                             ("bertattack", "fimba", "pgd", "random", "textattack", "textfooler")}
    assert len([k for k in want if k.startswith("model=")]) == 12  # + local (model.path=DIR alone)


def test_the_shared_bases_are_composed_not_copied():
    """The threat and selection keys are written once (the bases) and reach every option through defaults."""
    threat = ("max_perturb_ratio", "query_budget", "max_gc_shift", "protected", "targeted", "target_label")
    selection = ("split", "limit", "seed", "shard")
    for path in sorted((CONF_DIR / "attack").glob("[!_]*.yaml")) + sorted((CONF_DIR / "dataset").rglob("[!_]*.yaml")):
        text = path.read_text()
        keys = threat if path.parent.name == "attack" else selection
        copied = [k for k in keys if f"\n{k}:" in text and not (k == "limit" and "motif" in str(path.relative_to(CONF_DIR)))]
        assert not copied, f"{path} copies {copied} (they come from the base)"
        assert "_threat" in text or "_selection" in text
    for option in options("attack"):
        node = plain_config(compose_checked("attack", [f"attack={option}"])).get("attack")
        assert all(k in node for k in threat) and "beam_positions" not in node
    for option in options("dataset"):
        node = plain_config(compose_checked("attack", [f"dataset={option}"]))["dataset"]
        assert all(k in node for k in selection)
        assert node["limit"] == (100 if "motif" in option else None)


def test_each_command_composes_only_what_it_uses(clean_env):
    train, attack, defend = (plain_config(compose_checked(c, [])) for c in ("train", "attack", "defend"))
    assert "attack" not in train and "defense" not in train
    assert attack["defense"] == {"name": "none"} and defend["defense"] == {"name": "none"}
    run_keys = ("run_dir", "data_root", "cache_dir", "offline", "seed", "device", "batch_size", "progress", "sequence", "train")
    for cfg in (train, attack, defend):
        assert all(k in cfg for k in run_keys)
        assert cfg["model"]["name"] == "tiny-6mer" and cfg["dataset"]["name"] == "motif/tata"
    assert attack["attack"]["name"] == defend["attack"]["name"] == "bertattack"
