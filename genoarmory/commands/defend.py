"""`python -m genoarmory defend defense=at|freelb|adfar attack=...`: defend a victim, then attack it again.

The work is genoarmory.api.defense's (the same path `genoarmory.defend()` takes): the undefended victim is
attacked, the defense trains a copy of it into run_dir/model/, and the same attack runs on it.
"""

from __future__ import annotations

from genoarmory.api.defense import defend_configured
from genoarmory.commands.hydra_entry import run_hydra


def main(argv: list[str]) -> int:
    return run_hydra("defend", argv, defend_configured)
