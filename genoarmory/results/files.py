"""Writing files and folders so that nothing is ever half-written or lost: the one place that does it.

- `write_text_atomic`: a temporary file beside the target, fsynced, renamed over it; readers never see
  half a file, a failure leaves the old file and no temporary behind.
- `staged_folder`: a folder built under a temporary name beside its target and renamed into place only
  when complete (a killed or failed build leaves the old folder, or nothing, and its `.staging-*`
  remains are swept by the next build of the same target).
- `staged_outputs`: several results of one command beside each other in a run folder (train's model/,
  mlm/ and metrics.json) built in one staging folder and moved into place together, the marker that says
  "finished" (metrics.json) removed first and put back last, so a kill midway never shows new weights
  beside old metrics as a finished run.
- `safe_part` (config.py): a name that becomes part of a path (model names, task names) must not climb
  out of the folder it is joined to.
A finished result is never replaced unless the caller passes `overwrite` (the user's `overwrite=true`).
Files are written with the process umask (0644 for a default umask), the same for records, summaries,
configs and models: a result that one file of the run may be read by, all may.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from genoarmory.config import safe_part, safe_parts  # noqa: F401  (re-exported: results.safe_part)
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


def _make_staging(parent: Path, name: str, where: Path) -> Path:
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}.", dir=parent))
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700: a shared cache must stay readable
    except OSError as err:
        raise UserError(f"cannot create a folder beside it ({err.strerror})", str(where)) from None
    return staging


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())


def _swap_in(new: Path, target: Path, aside: Path) -> None:
    """Put `new` at `target`; an existing target is renamed to `aside` first and removed after, so a
    kill between the renames leaves the old one under a `.staging-*` name, never a mixture."""
    if target.exists() or target.is_symlink():
        os.replace(target, aside)
        os.replace(new, target)
        _remove(aside)
    else:
        os.replace(new, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _refuse_existing(target: Path) -> None:
    raise UserError("already exists; pass overwrite=true to replace it (or choose another folder)", str(target))


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
        _refuse_existing(target)
    if target.parent.is_dir():
        sweep_staging(target)
    staging = _make_staging(target.parent, target.name, target)
    try:
        yield staging
        _fsync_tree(staging)
        _swap_in(staging, target, Path(f"{staging}.old"))
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged_outputs(folder: str | Path, names: tuple[str, ...], overwrite: bool = False) -> Iterator[Path]:
    """Yield a staging folder to write `names` (files or folders) into; on success each becomes
    folder/<name>, the last of `names` (the marker saying the result is finished) removed first and put
    in place last. Any of them existing already is refused unless `overwrite`; a name the new result
    does not have is removed (no old mlm/ beside a new model/). On failure nothing in `folder` changes.
    The caller holds the folder's run_lock, so remains of killed builds can be swept."""
    folder = Path(folder)
    for name in names:
        if (folder / name).is_symlink():
            raise UserError("is a symbolic link; GenoArmory does not write through links", str(folder / name))
    existing = [name for name in names if (folder / name).exists()]
    if existing and not overwrite:
        raise UserError(f"already holds a finished result ({', '.join(existing)}); pass overwrite=true to replace "
                        "it (or choose another run_dir)", str(folder))
    sweep_staging(folder / "outputs")
    staging = _make_staging(folder, "outputs", folder)
    try:
        yield staging
        _fsync_tree(staging)
        _remove(folder / names[-1])  # from here until the end the folder holds no finished result
        for name in names:
            if (staging / name).exists():
                _swap_in(staging / name, folder / name, Path(f"{staging}.{name}.old"))
            else:
                _remove(folder / name)
        _fsync_dir(folder)
    except OSError as err:
        raise UserError(f"cannot write the results ({err.strerror})", str(folder)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
