"""FIMBA (feature-importance attacks on genomics models, Skovorodnikov et al. 2024) over nucleotides.

- importance: a real attribution method on the victim's input embeddings (captum Integrated Gradients
  by default; gradient x input or GradientShap), mapped to nucleotides through token spans
  (attacks/attribution.py) — the GenoArmory paper's code computed SHAP values and never used them;
- the engine's greedy search then substitutes the most important nucleotides first (the three other
  bases, the best kept when it raises the goal score) within the same Hamming budget as every attack.
Attributions are computed batched across the examples the engine steps together.
"""

from __future__ import annotations

from functools import partial

from genoarmory.attacks.attribution import AttributionItem, NucleotideAttribution
from genoarmory.attacks.constraints import threat_model_from
from genoarmory.attacks.embedding_batch import require_input_embeddings
from genoarmory.attacks.gather import Gathered
from genoarmory.attacks.search import AttackSpec, greedy_search
from genoarmory.config import own_partial


def attribution_importance(gathered: Gathered, original: str, units, goal):
    """The engine's importance hook: one gain per unit, the summed importance of its nucleotides."""
    target, sign = (goal.target, -1.0) if goal.target is not None else (goal.label, 1.0)
    ticket = gathered.register(AttributionItem(original, target, sign))
    yield []  # every example of this engine step registers before the first one computes the batch
    scores = gathered.result(ticket)
    return [float(scores[a:b].sum()) for a, b in units]


def fimba_search(gradient_passes: int, spec, victim, example, goal, rng, budget):
    """The engine's greedy search, recording the attribution's gradient passes on attacked examples."""
    outcome = yield from greedy_search(spec, victim, example, goal, rng, budget)
    if outcome.status != "skipped":
        outcome.extra["gradient_queries"] = gradient_passes
    return outcome


def build(victim, cfg) -> AttackSpec:
    a = cfg.attack
    require_input_embeddings(victim, "FIMBA")
    attribution = NucleotideAttribution(victim, a.attribution, a.steps, a.grad_batch_size, cfg.seed)
    return AttackSpec(name=a.name, threat=threat_model_from(a),
                      transformation=own_partial(a.transformation, "transformation")(victim, cfg),
                      importance=partial(attribution_importance, Gathered(attribution)), units=a.units,
                      accept="improve", targeted=a.targeted, target_label=a.target_label,
                      search=partial(fimba_search, attribution.gradient_passes))
