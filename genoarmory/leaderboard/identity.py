"""What a verified entry ran: hashes of the model's weights and tokenizer files and of the task's data.

`identity(summary)` is stored in the entry; `leaderboard check` re-hashes whatever of it still exists on
this machine (`recheck`). A weights hash is SHA-256 over the sorted (file name, file SHA-256) pairs of
the folder's weight files, so it names the weights, not the folder they sit in; the tokenizer hash is
the same over the tokenizer files. A hub download lives in the hub cache as
`models--<org>--<name>/snapshots/<revision>/`, which gives its hub id and revision.

Filing (`filed_model`): a run is filed under a hub model's name (one the catalog gives a `hub_id`) only when
its weights hash is one of that model's known revisions (catalog `known_weights`: revision -> weights hash);
otherwise under the folder's own name (genoarmory/naming.py, the rule the run's name follows too:
`<repo>@<revision>` for a hub snapshot) as a user model.

The task data: a CSV task (GUE and any `sequence,label` folder) is the SHA-256 of the split file that was
attacked; a generated task (the embedded motif tasks) is its generator's config and seed plus the code
version that generated it (the same config and code give the same sequences).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from genoarmory.leaderboard import catalog
from genoarmory.naming import HUB_SNAPSHOT, own_name

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json")
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _combined(files: dict[str, str]) -> str | None:
    if not files:
        return None
    return hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()


def model_files(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """({weights file: sha256}, {tokenizer file: sha256}) of a model folder (top level only, as HF saves)."""
    weights, tokenizer = {}, {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.endswith(WEIGHT_SUFFIXES):
            weights[path.name] = file_sha256(path)
        elif path.name in TOKENIZER_FILES:
            tokenizer[path.name] = file_sha256(path)
    return weights, tokenizer


def pointer(path: Path) -> str:
    """A path relative to the working directory when inside it (no machine-specific prefix in git)."""
    resolved, cwd = path.resolve(), Path.cwd().resolve()
    return resolved.relative_to(cwd).as_posix() if resolved.is_relative_to(cwd) else resolved.as_posix()


def model_identity(path: str | None) -> dict:
    """The weights and tokenizer hashes of the folder the run loaded (summary.model.path)."""
    out = {"path": None, "weights_sha256": None, "tokenizer_sha256": None, "hub_id": None, "revision": None}
    if not path or not Path(path).is_dir():
        out["path"] = path
        out["missing"] = "the model folder the run names is not on this machine: nothing was hashed"
        return out
    folder = Path(path)
    weights, tokenizer = model_files(folder)
    out.update(path=pointer(folder), weights_sha256=_combined(weights), tokenizer_sha256=_combined(tokenizer),
               weights_files=weights, tokenizer_files=tokenizer)
    hub = HUB_SNAPSHOT.search(folder.resolve().as_posix())
    if hub:
        out.update(hub_id=f"{hub['org']}/{hub['name']}", revision=hub["revision"])
    return out


def data_identity(config: dict, versions: dict) -> dict:
    """The attacked data: the split CSV's hash, or the generator's config + code version."""
    dataset = config.get("dataset") or {}
    loader = dataset.get("loader") or {}
    split = dataset.get("split") or "test"
    target = str(loader.get("_target_", ""))
    if target.endswith("make_motif_task") or "n_train" in loader:
        generator = {k: v for k, v in loader.items() if k != "_target_"}
        code = versions.get("genoarmory")
        blob = json.dumps({"generator": target, "config": generator, "code_version": code}, sort_keys=True)
        return {"kind": "generated", "generator": target, "config": generator, "code_version": code,
                "sha256": hashlib.sha256(blob.encode()).hexdigest()}
    folder = loader.get("task") or loader.get("folder") or loader.get("path")
    root = config.get("data_root")
    candidates = [Path(root) / str(folder) / f"{split}.csv"] if root and folder else []
    if folder:
        candidates.append(Path(str(folder)) / f"{split}.csv")
    for csv in candidates:
        if csv.is_file():
            return {"kind": "csv", "file": pointer(csv), "split": split, "sha256": file_sha256(csv)}
    return {"kind": "csv", "file": candidates[0].as_posix() if candidates else None, "split": split, "sha256": None,
            "missing": "the split file is not on this machine: nothing was hashed"}


def recheck(identity: dict) -> list[str]:
    """Every stored hash whose file exists here and no longer matches, as a sentence (empty: all agree or
    nothing is here to check)."""
    problems = []
    model = identity.get("model") or {}
    if model.get("path") and model.get("weights_sha256") and Path(model["path"]).is_dir():
        weights, tokenizer = model_files(Path(model["path"]))
        if _combined(weights) != model["weights_sha256"]:
            problems.append(f"the weights in {model['path']} no longer match the entry's hash")
        if _combined(tokenizer) != model.get("tokenizer_sha256"):
            problems.append(f"the tokenizer files in {model['path']} no longer match the entry's hash")
    data = identity.get("data") or {}
    if data.get("kind") == "csv" and data.get("sha256") and data.get("file") and Path(data["file"]).is_file():
        if file_sha256(Path(data["file"])) != data["sha256"]:
            problems.append(f"the data file {data['file']} no longer matches the entry's hash")
    return problems


def checked_here(identity: dict) -> set[str]:
    """What of an entry's identity could be re-hashed on this machine: {'weights'} (weights and tokenizer
    files), {'data'} (the split file), both, or none."""
    model, data = identity.get("model") or {}, identity.get("data") or {}
    parts = set()
    if model.get("path") and model.get("weights_sha256") and Path(model["path"]).is_dir():
        parts.add("weights")
    if data.get("kind") == "csv" and data.get("sha256") and data.get("file") and Path(data["file"]).is_file():
        parts.add("data")
    return parts


def filed_model(name: str, model: dict, family: str | None = None) -> tuple[str, str | None, str]:
    """(the name the entry is filed under, its hub id, why). `name` is the run's (already a folder's own
    name unless the run loaded its config's own source: genoarmory/naming.py), `family` the model config
    that loaded it (summary.model.family; older summaries name only the config). A hub model's name only
    with known weights; otherwise the folder's own name (naming.own_name: `<repo>@<revision>` for a hub
    snapshot)."""
    config = family or name
    info = catalog.info("models", config)
    hub_id = info.get("hub_id")
    if not hub_id:
        return name, None, f"{name}: not a hub model (the run's own weights, hashed)"
    known = info.get("known_weights") or {}
    weights = model.get("weights_sha256")
    revision = next((rev for rev, sha in known.items() if weights and sha == weights), None)
    if revision is not None:
        return config, hub_id, f"{hub_id}@{revision}: weights hash matches the known revision"
    own = own_name(model["path"]) if model.get("path") else f"{name} (unverified)"
    return own, None, (f"user model {own}: the run named {config} ({hub_id}), but its weights hash "
                       f"{(weights or 'none')[:12]} matches no known revision of {hub_id}")
