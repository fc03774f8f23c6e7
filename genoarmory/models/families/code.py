"""The model code a remote-code checkpoint runs, so that folders GenoArmory writes carry it.

`transformers`' `save_pretrained` of a model built from remote code writes `configuration_*.py` but not
the modelling file (measured on DNABERT-2: `configuration_bert.py` written, `bert_layers.py` not), so
the saved folder does not load again by itself. `RemoteCode.of(folder, ...)` lists, when a checkpoint is
loaded, every file its `auto_map` entries (config.json and tokenizer_config.json) name plus their
relative imports, found as transformers finds them (`get_relative_import_files`); `write(folder)`
copies them beside the saved weights, points `auto_map` at the local copies (a fine-tuned folder may name
another repository's code, `repo--module.Class`) and records their SHA-256 in `genoarmory_code.json`.
Loading a folder that holds that file checks the hashes first: code changed after GenoArmory wrote it
is refused, naming the file. Running the code still needs the user's `model.trust_remote_code=true`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from genoarmory.errors import UserError

CODE_FILE = "genoarmory_code.json"
CONFIG_FILES = ("config.json", "tokenizer_config.json")
Resolver = Callable[[str], Path]  # repository id -> local snapshot folder


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def auto_map_entries(folder: Path) -> list[tuple[str, str]]:
    """(file it is in, entry) of every auto_map class reference of the folder's config files."""
    out = []
    for name in CONFIG_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            auto_map = json.loads(path.read_text()).get("auto_map") or {}
        except (ValueError, AttributeError):
            raise UserError(f"broken {name}", str(path)) from None
        for value in auto_map.values():
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, str):
                    out.append((name, entry))
    return out


def split_entry(entry: str) -> tuple[str | None, str]:
    """"org/repo--module.Class" -> ("org/repo", "module.py"); "module.Class" -> (None, "module.py")."""
    repo, _, reference = entry.rpartition("--")
    module = reference.rsplit(".", 1)[0]
    return repo or None, module.replace(".", "/") + ".py"


@dataclass
class RemoteCode:
    files: dict[str, Path]  # file name in the folder -> where it is read from

    @classmethod
    def of(cls, folder: Path, resolve_repo: Resolver | None = None) -> "RemoteCode | None":
        """The code files a checkpoint folder runs; None when its config names no code."""
        from transformers.dynamic_module_utils import get_relative_import_files

        folder = Path(folder)
        entries = auto_map_entries(folder)
        if not entries:
            return None
        check_hashes(folder)
        files: dict[str, Path] = {}
        for config_name, entry in entries:
            repo, module_file = split_entry(entry)
            source = folder
            if not (folder / module_file).is_file() and repo is not None:
                if resolve_repo is None:
                    raise UserError(f"{config_name} runs {module_file} from {repo}, which is not in the folder",
                                    str(folder))
                source = Path(resolve_repo(repo))
            path = source / module_file
            if not path.is_file():
                raise UserError(f"{config_name} names code in {module_file}, which is not in {source}", str(folder))
            for found in [str(path), *get_relative_import_files(str(path))]:
                files.setdefault(Path(found).name, Path(found))
        return cls(files)

    def write(self, folder: Path) -> None:
        """Copy the code beside a saved model, point auto_map at the copies, record their hashes."""
        folder = Path(folder)
        for name, source in self.files.items():
            target = folder / name
            if not target.exists() or sha256(target) != sha256(source):
                shutil.copyfile(source, target)
        for name in CONFIG_FILES:
            path = folder / name
            if path.is_file():
                config = json.loads(path.read_text())
                if config.get("auto_map"):
                    config["auto_map"] = {k: _local(v) for k, v in config["auto_map"].items()}
                    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        record = {"note": "model code copied with the weights; runs only with model.trust_remote_code=true",
                  "files": {name: sha256(folder / name) for name in sorted(self.files)},
                  "copied_from": {name: str(source) for name, source in sorted(self.files.items())}}
        (folder / CODE_FILE).write_text(json.dumps(record, indent=2) + "\n")


def _local(value):
    if isinstance(value, list):
        return [_local(v) for v in value]
    return value.rpartition("--")[2] if isinstance(value, str) else value


def check_hashes(folder: Path) -> None:
    """Refuse a GenoArmory-written folder whose code differs from what was written (or is missing)."""
    path = Path(folder) / CODE_FILE
    if not path.is_file():
        return
    try:
        files = json.loads(path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"broken {CODE_FILE}", str(path)) from None
    for name, digest in files.items():
        code = Path(folder) / name
        if not code.is_file():
            raise UserError(f"{name} is missing (listed in {CODE_FILE})", str(folder))
        if sha256(code) != digest:
            raise UserError(f"{name} changed since GenoArmory wrote this folder (its SHA-256 is not the one in "
                            f"{CODE_FILE}); restore it, or delete {CODE_FILE} if you changed it on purpose",
                            str(code))
