"""Defenses: AT (at.py), FreeLB (freelb.py), ADFAR (adfar.py + far.py) on the one fine-tuning loop, and
randomized smoothing (smoothing.py: noise-augmented fine-tuning, a smoothed victim, certificate.py).

Each conf/defense/<name>.yaml names its `trainer`, a `train(DefenseContext) -> Defended` function;
`genoarmory.api.defense` (the `defend` command) trains the defended victim with it, saves it, and attacks it again.
"""

from genoarmory.defenses import adfar  # noqa: F401,E402  (registers ADFAR's saved-model wrapper for load_victim)
from genoarmory.defenses import smoothing  # noqa: F401,E402  (registers the smoothed victim for load_victim)
