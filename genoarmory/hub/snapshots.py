"""Air-gapped sites: a local folder or archive (zip, tar) imported into the same cache `fetch` reads."""

from __future__ import annotations

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
from genoarmory.hub.cache import _COMMIT, hub_cache

_JUNK = {"__MACOSX", ".cache", ".git"}  # archive litter and local_dir metadata, never part of a snapshot


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


