"""Writing files and folders so that nothing is ever half-written or lost: the one place that does it.

- `write_text_atomic`: a temporary file beside the target, fsynced, renamed over it; readers never see
  half a file, a failure leaves the old file and no temporary behind.
- `staged_folder`: a folder built under a temporary name beside its target and renamed into place only
  when complete (a killed or failed build leaves the old folder, or nothing, and its `.staging-*`
  remains are swept by the next build of the same target).
- `safe_part`: a name that becomes part of a path (model names, task names) must not climb out of the
  folder it is joined to.
Files are written with the process umask (0644 for a default umask), the same for records, summaries,
configs and models: a result that one file of the run may be read by, all may.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from genoarmory.errors import UserError

STAGING_PREFIX = ".staging-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened for fsync
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see the module note); OSError becomes a UserError naming the file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise UserError("is a symbolic link; GenoArmory does not write through links", str(path))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are as readable as any file
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)
    except OSError as err:
        raise UserError(f"cannot write ({err.strerror})", str(path)) from None


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | Path, obj) -> None:
    import json

    write_text_atomic(path, json.dumps(obj, indent=2, default=str))


def sweep_staging(target: Path) -> None:
    """Remove what killed builds of `target` left beside it."""
    for stale in target.parent.glob(f"{STAGING_PREFIX}{target.name}.*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh folder to fill; on success it replaces `target` (which must not exist unless
    `overwrite`), on any failure it is removed and `target` is untouched.

    The swap of an existing folder is two renames (old aside, new in, old removed): a kill between them
    leaves the old folder under `.staging-<name>.old-*`, never a mixture of old and new files."""
    target = Path(target)
    if target.is_symlink():
        raise UserError("is a symbolic link; GenoArmory does not write through links", str(target))
    if target.exists() and not overwrite:
        raise UserError("already exists; pass --overwrite (or choose another folder) to replace it", str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_staging(target)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}.", dir=target.parent))
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700: a shared cache must stay readable
    except OSError as err:
        raise UserError(f"cannot create a folder beside it ({err.strerror})", str(target)) from None
    try:
        yield staging
        for folder, _, files in os.walk(staging):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    os.fsync(f.fileno())
        if target.exists():
            aside = Path(f"{staging}.old")
            os.replace(target, aside)
            os.replace(staging, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]*$")


def safe_part(name: str, what: str) -> str:
    """`name` when it can be one component of a path under a folder we own (no '/', no '..', no
    absolute path, no interpolation left over); else a UserError naming `what` (the config key)."""
    text = str(name)
    if not _SAFE.match(text) or text in (".", "..") or len(text) > 200:
        raise UserError(f"{what}={text!r} cannot be used in a file name: use letters, digits and . _ + = @ - "
                        "(no '/', no '..', at most 200 characters)")
    return text


def safe_parts(name: str, what: str) -> list[str]:
    """A name that may hold '/' (a task such as motif/tata): each part must be a `safe_part`."""
    return [safe_part(p, what) for p in str(name).split("/")]
