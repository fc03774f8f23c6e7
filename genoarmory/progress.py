"""Progress bars that stay readable in logs: live on a terminal, a line every 30 s otherwise."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(total: int | None = None, desc: str = "", enabled: bool = True, **kwargs) -> tqdm:
    interactive = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=not enabled, leave=interactive,
                mininterval=0.2 if interactive else 30.0, dynamic_ncols=True, **kwargs)
