"""One writer per run folder: an exclusive, non-blocking lock held while a command writes there.

Two processes on one run_dir would interleave records (60 lines for 30 examples) or mix two attacks
under one summary; the second one stops at once with a clear message instead. The lock is an OS file
lock (`filelock`, fcntl on Linux and macOS): it dies with its process, so a killed run never leaves the
folder locked. The empty `.genoarmory.lock` file stays behind (deleting a lock file others may hold
open would let two processes lock two different files); it holds nothing. A command that fails before
writing anything leaves nothing: a folder this lock created and that holds only the lock file is removed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from genoarmory.errors import UserError

LOCK_FILE = ".genoarmory.lock"


@contextlib.contextmanager
def run_lock(folder: str | Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    folder = Path(folder)
    if folder.is_symlink():
        raise UserError("is a symbolic link; give the run folder itself", str(folder))
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create the folder ({err.strerror})", str(folder)) from None
    lock = FileLock(str(folder / LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UserError("is busy: another GenoArmory process is writing to it (wait for it to finish, or choose "
                        "another run_dir)", str(folder)) from None
    except OSError as err:
        raise UserError(f"cannot lock the folder ({err.strerror})", str(folder)) from None
    try:
        yield
    except BaseException:
        lock.release()
        if created and [p.name for p in folder.iterdir()] == [LOCK_FILE]:
            (folder / LOCK_FILE).unlink(missing_ok=True)
            folder.rmdir()
        raise
    lock.release()
