"""Fetching from the hub into the one cache, resolved offline through refs/ (layout: genoarmory/hub/__init__.py),
and the one-line errors for offline, gated and missing repos."""

from __future__ import annotations

import os
import re
from pathlib import Path

from genoarmory.config import cache_dir as config_cache_dir
from genoarmory.errors import UserError

# Published GenoAdv. Found in the "Hugging Face Dataset" badge of the GenoArmory README
# (github.com/nicosquare/GenoArmory README.md, a fork of MAGICS-LAB/GenoArmory); its hub page
# (huggingface.co/datasets/magicslabnu/GenoAdv) is gated: accept the conditions, then log in.
GENOADV_REPO = "magicslabnu/GenoAdv"
# GUE on the hub. DNABERT-2's authors ship GUE as a Google Drive zip, not a hub dataset; this community
# copy (huggingface.co/datasets/leannmlindsey/GUE, card tagged arXiv:2306.15006, README at commit 235b5f7)
# has all 28 tasks as configs `emp_H3` ... `virus_covid` with CSVs under GUE/<config>/{train,dev,test}.csv.
# Found with the docs search "GUE genome understanding evaluation huggingface dataset". Pin a commit
# with `--revision` for reproducible runs.
GUE_REPO = "leannmlindsey/GUE"

HUB_TIMEOUT_S = 10  # one metadata request: a firewall that drops packets costs this much, not minutes
# Weights for other frameworks are never loaded by GenoArmory; pickles are skipped when safetensors exist.
NON_TORCH_WEIGHTS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.tflite", "*.mlmodel", "flax_model*", "tf_model*"]
PICKLED_WEIGHTS = ["*.bin", "*.pt", "*.pth", "*.ckpt"]
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def default_cache_dir() -> Path:
    """The one default (genoarmory.config.cache_dir): $GENOARMORY_CACHE, else ~/.cache/genoarmory."""
    return config_cache_dir()


def hub_cache(cache_dir=None) -> Path:
    return Path(cache_dir or default_cache_dir()).expanduser() / "hub"


def is_offline(offline=False) -> bool:
    """`offline` from the config (bool or the string of HF_HUB_OFFLINE), or HF_HUB_OFFLINE set at any time."""
    from huggingface_hub import constants

    return _truthy(offline) or _truthy(os.environ.get("HF_HUB_OFFLINE")) or bool(constants.HF_HUB_OFFLINE)


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def fetch(repo_id: str, repo_type: str = "model", revision: str | None = None, cache_dir=None,
          offline: bool = False, allow_patterns=None, token=None) -> Path:
    """A local folder as is; else the hub snapshot at `revision` (resumable, with a progress bar) in the cache."""
    local = Path(str(repo_id)).expanduser()
    if local.is_dir():
        return local
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HFValidationError

    revision = revision or "main"
    why_local = "offline" if is_offline(offline) else None  # why only the cache may answer
    try:
        ignore = None
        if why_local is None:
            info = _probe(HfApi(token=token), repo_id, repo_type, revision)
            why_local = "unreachable" if info is None else None  # fall back to the cache, as the hub library does
            ignore = _ignored_weights(info) if info is not None and repo_type == "model" else None
        path = snapshot_download(repo_id, repo_type=repo_type, revision=revision, cache_dir=hub_cache(cache_dir),
                                 local_files_only=why_local is not None, allow_patterns=allow_patterns,
                                 ignore_patterns=ignore, token=token)
    except HFValidationError:
        raise UserError(f"{repo_id!r} is neither an existing folder nor a Hugging Face repo id (org/name)") from None
    except Exception as err:  # huggingface_hub and requests errors -> one line saying what to do
        raise _hub_error(err, repo_id, repo_type, revision, why_local) from None
    return Path(path)


def _probe(api, repo_id: str, repo_type: str, revision: str):
    """The repo's metadata within HUB_TIMEOUT_S, or None when the hub cannot be reached."""
    import requests
    from huggingface_hub.errors import OfflineModeIsEnabled

    try:
        return api.repo_info(repo_id, repo_type=repo_type, revision=revision, timeout=HUB_TIMEOUT_S)
    except (requests.exceptions.SSLError, requests.exceptions.ProxyError):
        raise  # a misconfigured proxy or certificate: say so rather than silently use the cache
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OfflineModeIsEnabled):
        return None


def _ignored_weights(info) -> list[str]:
    files = [s.rfilename for s in info.siblings or []]
    has_safetensors = any(f.endswith(".safetensors") for f in files)
    return NON_TORCH_WEIGHTS + (PICKLED_WEIGHTS if has_safetensors else [])


def _hub_error(err: Exception, repo_id: str, repo_type: str, revision: str, why_local: str | None) -> UserError:
    import requests
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    dataset = repo_type == "dataset"
    name = f"{'dataset ' if dataset else ''}{repo_id}"
    url = f"https://huggingface.co/{'datasets/' if dataset else ''}{repo_id}"
    login = "run `huggingface-cli login` or set HF_TOKEN"
    if isinstance(err, GatedRepoError):  # before RepositoryNotFoundError, its base class
        return UserError(f"{name} is gated: accept its conditions at {url}, then {login}")
    if isinstance(err, RepositoryNotFoundError):
        return UserError(f"{name} not found on the Hugging Face hub (if it is private, {login})")
    if isinstance(err, RevisionNotFoundError):
        return UserError(f"revision {revision!r} not found in {name}: check --revision or the config's revision")
    misconfigured = (requests.exceptions.ProxyError, requests.exceptions.SSLError)  # not "offline": say what broke
    if isinstance(err, (LocalEntryNotFoundError, OfflineModeIsEnabled, requests.exceptions.ConnectionError,
                        requests.exceptions.Timeout)) and not isinstance(err, misconfigured):
        how = {GUE_REPO: "`python -m genoarmory download gue` and pass `--source DIR` (or set data_root=DIR)",
               GENOADV_REPO: "`python -m genoarmory download genoadv` and pass `--source DIR`"}.get(repo_id, (
                   "`python -m genoarmory download ...` and pass `--source DIR`" if dataset else
                   "`python -m genoarmory download model=<name>` and pass `--source DIR`, or set model.path=DIR"))
        return UserError(f"cannot reach the Hugging Face hub for {name}@{revision} ({why_local or 'unreachable'}) "
                         f"and it is not in the cache: fetch it on a connected machine with {how}")
    if isinstance(err, HfHubHTTPError):
        return UserError(f"the Hugging Face hub refused {name}@{revision}: {_first_line(err)}")
    if isinstance(err, requests.exceptions.RequestException):  # SSL, proxy, a dropped transfer
        return UserError(f"download of {name} failed ({_first_line(err)}): fix the connection and rerun to resume")
    if isinstance(err, OSError):
        return UserError(f"cannot write {name} to the cache: {_first_line(err)}")
    raise err  # a bug, not a user problem: keep the traceback


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


