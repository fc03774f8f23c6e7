"""Defenses: AT (at.py), FreeLB (freelb.py), ADFAR (adfar.py + far.py) on the one fine-tuning loop.

Each conf/defense/<name>.yaml names its `trainer`, a `train(DefenseContext) -> Defended` function;
`genoarmory.commands.defend` trains the defended victim with it, saves it, and attacks it again.
"""

from genoarmory.defenses import adfar  # noqa: F401,E402  (registers ADFAR's saved-model wrapper for load_victim)
