"""The Hugging Face hub: the one place GenoArmory downloads, and the one cache every command reads.

Cache layout (`cache_dir` is the config's `cache_dir`: $GENOARMORY_CACHE, else ~/.cache/genoarmory):

    <cache_dir>/hub/                       huggingface_hub's own cache format (what HF_HUB_CACHE holds)
        models--<org>--<name>/refs/<revision>          the commit id a branch or tag resolved to
        models--<org>--<name>/snapshots/<commit>/...   the files: config.json, model.safetensors, tokenizer ...
        datasets--<org>--<name>/...                    the same for datasets (GenoAdv, GUE)
    <cache_dir>/gue/<group>/<task>/{train,dev,test}.csv   GUE laid out as it ships (genoarmory.data.gue reads it)

`fetch(repo_id, repo_type, revision, cache_dir)` resolves `revision` through refs/ when the hub cannot be
reached, so whatever `python -m genoarmory download` put there, from the hub or from `--source`, is found
again with no network. A `--source` copy is stored under a content-derived 40-hex id in snapshots/ (not a
hub commit) with refs/<revision> pointing at it; once online, fetching a branch moves the ref to the hub's
real commit. A pinned 40-hex revision is used as the snapshot id itself.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

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
GUE_REVISION = "main"
# GUE's own group folders -> the prefix of leannmlindsey/GUE's config names (EMP/H3 -> emp_H3, tf/0 -> human_tf_0).
GUE_CONFIG_PREFIX = {"EMP": "emp_", "tf": "human_tf_", "mouse": "mouse_", "prom": "", "splice": "splice_",
                     "virus": "virus_"}
GUE_SPLITS = {"train": "train", "dev": "dev", "validation": "dev", "test": "test"}  # hub split -> GUE file

HUB_TIMEOUT_S = 10  # one metadata request: a firewall that drops packets costs this much, not minutes
# Weights for other frameworks are never loaded by GenoArmory; pickles are skipped when safetensors exist.
NON_TORCH_WEIGHTS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.tflite", "*.mlmodel", "flax_model*", "tf_model*"]
PICKLED_WEIGHTS = ["*.bin", "*.pt", "*.pth", "*.ckpt"]
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_JUNK = {"__MACOSX", ".cache", ".git"}  # archive litter and local_dir metadata, never part of a snapshot


def default_cache_dir() -> Path:
    """The same default as conf/config.yaml's `cache_dir`."""
    return Path(os.environ.get("GENOARMORY_CACHE") or Path(os.environ.get("HOME", ".")) / ".cache/genoarmory")


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


# --- air-gapped sites: a local folder or archive into the same cache ---------------------------------------


def import_snapshot(src: Path, repo_id: str, repo_type: str = "model", revision: str | None = None,
                    cache_dir=None) -> Path:
    """Copy a folder in HF layout into the hub cache where `fetch(repo_id, repo_type, revision)` finds it."""
    from huggingface_hub.file_download import repo_folder_name

    revision = revision or "main"
    if ".." in PurePosixPath(revision).parts or revision.startswith("/"):
        raise UserError(f"revision {revision!r} is not a branch, tag or commit name")
    storage = hub_cache(cache_dir) / repo_folder_name(repo_id=repo_id, repo_type=repo_type)
    snapshot_id = revision if _COMMIT.match(revision) else _content_id(src)
    target = storage / "snapshots" / snapshot_id
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=_made(storage)))
    shutil.copytree(src, staging / "files", ignore=lambda _d, names: [n for n in names if n in _JUNK])
    shutil.rmtree(target, ignore_errors=True)
    _made(target.parent)
    os.replace(staging / "files", target)
    shutil.rmtree(staging, ignore_errors=True)
    if snapshot_id != revision:
        ref = storage / "refs" / revision
        _made(ref.parent)
        ref.write_text(snapshot_id)
    return target


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _content_id(folder: Path) -> str:
    """sha1 over every file's relative path and content: the same source gives the same snapshot id."""
    digest = hashlib.sha1()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _JUNK & set(p.relative_to(folder).parts)):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def unpack_source(source: Path, staging: Path, revision: str = "main") -> Path:
    """`--source`: a folder as is, or an archive extracted into `staging`; one wrapping folder is unwrapped.
    A hub-cache repo folder (refs/, snapshots/, blobs/ as `download` leaves on a connected machine) gives
    the snapshot its refs/<revision> names."""
    source = Path(source).expanduser()
    if source.is_dir():
        return _cached_snapshot(_unwrap(source), revision)
    if not source.is_file():
        raise UserError("--source: no such file or folder", str(source))
    extract_archive(source, staging)
    return _cached_snapshot(_unwrap(staging), revision)


def _cached_snapshot(root: Path, revision: str) -> Path:
    snapshots = root / "snapshots"
    if not (snapshots.is_dir() and (root / "refs").is_dir()):
        return root
    ref = root / "refs" / revision
    snapshot = snapshots / (ref.read_text().strip() if ref.is_file() else revision)
    found = [p for p in snapshots.iterdir() if p.is_dir()]
    if not snapshot.is_dir() and len(found) != 1:
        raise UserError(f"--source is a hub cache folder with no snapshot for revision {revision!r}", str(root))
    return snapshot if snapshot.is_dir() else found[0]


def _unwrap(root: Path) -> Path:
    entries = [e for e in root.iterdir() if e.name not in _JUNK and not e.name.startswith(".")]
    return _unwrap(entries[0]) if len(entries) == 1 and entries[0].is_dir() else root


def extract_archive(archive: Path, dest: Path) -> None:
    """Extract a .zip or .tar[.gz|.bz2|.xz] into `dest`. Every member is checked first: one that is absolute,
    climbs out with `..`, is a link reaching outside `dest` (or is written through a link), or is a device
    refuses the whole archive, and nothing is extracted."""
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            _check_members(archive, [(i.filename, _zip_link(zf, i), None) for i in zf.infolist()])
            zf.extractall(_made(dest))
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                if not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
                    raise UserError(f"archive member {m.name!r} is a device or pipe: archive refused", str(archive))
            _check_members(archive, [(m.name, m.linkname if m.issym() else None, m.linkname if m.islnk() else None)
                                     for m in members])
            try:
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.10.12: the stdlib's own guard as well
                    tf.extractall(_made(dest), members=members, filter="data")
                else:
                    tf.extractall(_made(dest), members=members)
            except getattr(tarfile, "FilterError", ()) as err:
                raise UserError(f"unsafe archive member ({err}): archive refused", str(archive)) from None
    else:
        raise UserError("--source is neither a folder nor a .zip / .tar / .tar.gz archive", str(archive))


def _check_members(archive: Path, members: list[tuple[str, str | None, str | None]]) -> None:
    """members: (name, symlink target or None, hardlink target or None), as stored in the archive."""
    links = {_norm(name) for name, symlink, _ in members if symlink is not None}
    for name, symlink, hardlink in members:
        parent = str(PurePosixPath(_norm(name)).parent)
        through_link = any(str(p) in links for p in PurePosixPath(_norm(name)).parents)
        if (_escapes(name, ".") or through_link or (symlink is not None and _escapes(symlink, parent))
                or (hardlink is not None and _escapes(hardlink, "."))):
            target = symlink if symlink is not None else hardlink
            raise UserError(f"archive member {name!r}{f' (link to {target!r})' if target else ''} points outside "
                            f"the extraction folder: archive refused, nothing extracted", str(archive))


def _norm(path: str) -> str:
    return str(PurePosixPath(path.replace("\\", "/")))  # a Windows-made archive's separators count too


def _escapes(path: str, base: str) -> bool:
    """True when `path`, relative to `base` inside the archive, is absolute or leaves the archive's root."""
    path = path.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return True
    depth = 0
    for part in (PurePosixPath(base) / path).parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            return True
    return False


def _zip_link(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """zipfile extracts a symlink member as a file holding its target; still refuse one that points outside."""
    return zf.read(info).decode("utf-8", "replace") if stat.S_ISLNK(info.external_attr >> 16) else None


# --- datasets: a config's files from the dataset card, and GUE's CSV layout --------------------------------


def card_configs(snapshot: Path) -> dict[str, dict[str, list[str]]]:
    """{config: {split: path patterns}} from the card's `configs:` / `data_files:` (what `datasets` reads)."""
    from huggingface_hub.repocard import metadata_load

    readme = Path(snapshot) / "README.md"
    entries = (metadata_load(readme) or {}).get("configs") or [] if readme.is_file() else []
    return {e["config_name"]: _data_files(e.get("data_files")) for e in entries if "config_name" in e}


def _data_files(spec) -> dict[str, list[str]]:
    """data_files in each documented form: a path, a list of paths, {split: path(s)}, [{split, path(s)}]."""
    def as_list(paths):
        return [paths] if isinstance(paths, str) else list(paths)

    if isinstance(spec, str):
        return {"train": [spec]}
    if isinstance(spec, dict):
        return {split: as_list(paths) for split, paths in spec.items()}
    if spec and all(isinstance(d, dict) for d in spec):
        return {d["split"]: as_list(d["path"]) for d in spec}
    return {"train": list(spec or [])}


def config_split_files(snapshot: Path, config: str) -> dict[str, list[Path]]:
    """{split: files present in `snapshot`} for one config of the card; {} when the card lacks it."""
    splits = card_configs(snapshot).get(config, {})
    return {split: sorted({p for pattern in patterns for p in Path(snapshot).glob(pattern) if p.is_file()})
            for split, patterns in splits.items()}


def gue_config_name(task: str) -> str:
    group, _, name = task.partition("/")
    if group not in GUE_CONFIG_PREFIX or not name:
        raise UserError(f"unknown GUE task {task!r}: expected <group>/<task> with group one of "
                        f"{', '.join(GUE_CONFIG_PREFIX)} (e.g. EMP/H3, tf/0, prom/prom_300_all)")
    return GUE_CONFIG_PREFIX[group] + name


def gue_cache(cache_dir=None) -> Path:
    return Path(cache_dir or default_cache_dir()).expanduser() / "gue"


def gue_task_dir(task: str, cache_dir=None, offline=False, data_root=None, revision: str | None = None) -> Path:
    """<data_root>/<task> when present, else <cache>/gue/<task>, else GUE from the hub laid out there."""
    if data_root is not None and (Path(data_root) / task).is_dir():
        return Path(data_root) / task
    out = gue_cache(cache_dir) / task
    if all((out / f"{split}.csv").is_file() for split in ("train", "dev", "test")):
        return out
    return lay_out_gue_task(fetch_gue(revision, cache_dir, offline, [task]), task, out)


def fetch_gue(revision, cache_dir, offline, tasks: list[str]) -> Path:
    """The hub snapshot holding `tasks`: the card first, then only those configs' data files."""
    revision = revision or GUE_REVISION
    configs = {task: gue_config_name(task) for task in tasks}  # an unknown task fails before any request
    card = card_configs(fetch(GUE_REPO, "dataset", revision, cache_dir, offline, allow_patterns=["README.md"]))
    patterns = ["README.md"]
    for task, config in configs.items():
        patterns += [p for ps in card[config].values() for p in ps] if config in card else [
            f"{task}/*", f"*/{task}/*", f"{config}/*", f"*/{config}/*"]  # a copy without a card: by folder
    return fetch(GUE_REPO, "dataset", revision, cache_dir, offline, allow_patterns=patterns)


def lay_out_gue_task(root: Path, task: str, out: Path) -> Path:
    """Write `task` from `root` (a hub snapshot with a card, or GUE as it ships) as out/{train,dev,test}.csv."""
    files = {GUE_SPLITS[s]: f for s, f in config_split_files(root, gue_config_name(task)).items() if s in GUE_SPLITS}
    if not any(files.values()):
        files = _gue_shipped_files(root, task)
    missing = [split for split in ("train", "dev", "test") if not files.get(split)]
    if missing:
        raise UserError(f"GUE task {task}: no {'/'.join(missing)} split in {root} (get it with "
                        f"`python -m genoarmory download gue --task {task}`, or put GUE under data_root)")
    staging = Path(tempfile.mkdtemp(prefix=".gue-", dir=_made(out.parent)))
    for split in ("train", "dev", "test"):
        _write_csv(files[split], staging / f"{split}.csv")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)
    return out


def _gue_shipped_files(root: Path, task: str) -> dict[str, list[Path]]:
    """GUE as its zip ships, <root>/[GUE/]<group>/<task>/<split>.csv, or a card-less copy by config name."""
    config = gue_config_name(task)
    for folder in (root / task, root / "GUE" / task, root / config, root / "GUE" / config):
        if (folder / "train.csv").is_file():
            return {s: [folder / f"{s}.csv"] for s in ("train", "dev", "test") if (folder / f"{s}.csv").is_file()}
    return {}


def _write_csv(sources: list[Path], dest: Path) -> None:
    """One GUE split file: CSVs are concatenated (one header kept), Parquet converted to `sequence,label`."""
    with dest.open("w", newline="", encoding="utf-8") as out:
        for i, src in enumerate(sources):
            if src.suffix == ".parquet":
                _parquet_rows(src, out, header=i == 0)
                continue
            lines = src.read_text(encoding="utf-8-sig").splitlines(keepends=True)
            lines = lines if i == 0 else lines[1:]
            out.writelines(lines)
            if lines and not lines[-1].endswith("\n"):
                out.write("\n")


def _parquet_rows(src: Path, out, header: bool) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    if not {"sequence", "label"} <= set(table.column_names):
        raise UserError(f"expected columns sequence and label, found {', '.join(table.column_names)}", str(src))
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(["sequence", "label"])
    writer.writerows(zip(table.column("sequence").to_pylist(), table.column("label").to_pylist()))
