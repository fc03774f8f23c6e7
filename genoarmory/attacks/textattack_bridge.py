"""GenoArmory's parts as TextAttack building blocks, so any TextAttack search attacks any GFM.

A DNA sequence is an `AttackedText` of space-separated bases: one nucleotide = one word. Our goal
(`Goal`), threat model (`ThreatModel`) and transformations (`Transformation`) keep their own
definitions and are only wrapped; the victim is wrapped as a `ModelWrapper` (batched, cached queries).
Importing this module imports textattack, offline (attacks/textattack_offline.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import torch

from genoarmory.attacks.textattack_offline import import_textattack

import_textattack()

from textattack import Attack  # noqa: E402
from textattack.attack_results import SkippedAttackResult, SuccessfulAttackResult  # noqa: E402
from textattack.constraints import Constraint, PreTransformationConstraint  # noqa: E402
from textattack.goal_functions import ClassificationGoalFunction  # noqa: E402
from textattack.models.wrappers import ModelWrapper  # noqa: E402
from textattack.shared import AttackedText, validators  # noqa: E402
from textattack.transformations import WordSwap  # noqa: E402

from genoarmory.attacks.constraints import Candidate, Original, ThreatModel  # noqa: E402
from genoarmory.attacks.goal import Goal  # noqa: E402
from genoarmory.attacks.search import Outcome, decided_probs, should_skip, skipped  # noqa: E402
from genoarmory.results.records import Status  # noqa: E402
from genoarmory.sequence import diff_edits  # noqa: E402


def to_text(sequence: str) -> str:
    return " ".join(sequence)


def from_text(text: AttackedText) -> str:
    return "".join(text.words)


@dataclass
class ExampleState:
    """What the parts need to know about the example being attacked (set by `TextAttackRunner.run`)."""

    original: str = ""
    protected: set = field(default_factory=set)
    proposals: object = None  # our transformation's per-example state

    def editable(self, current: str, position: int) -> bool:
        """Not protected and not edited yet (no position is edited twice)."""
        return position not in self.protected and current[position] == self.original[position]


class VictimWrapper(ModelWrapper):
    def __init__(self, victim):
        self.victim, self.model = victim, victim.model

    def __call__(self, text_input_list):
        return self.victim.predict_proba(["".join(t.split()) for t in text_input_list])


class GoalBridge(ClassificationGoalFunction):
    """Our `Goal`: success, skip rule and (rounded) score exactly as the engine's."""

    goal: Goal

    def _is_goal_complete(self, model_output, _):
        return bool(self.goal.reached(model_output.numpy()[None])[0])

    def _get_score(self, model_output, _):
        return float(self.goal.scores(model_output.numpy()[None])[0])

    def _should_skip(self, model_output, _):
        return should_skip(self.goal, model_output.numpy(), self.goal.label)

    def _process_model_outputs(self, inputs, scores):
        # Our victim returns probabilities; TextAttack's default would re-softmax rows whose float32 sum
        # is off by more than 1e-6, silently changing scores.
        scores = torch.as_tensor(np.asarray(scores) if isinstance(scores, list) else scores)
        if scores.ndim != 2 or scores.shape[0] != len(inputs):
            raise ValueError(f"victim returned scores of shape {tuple(scores.shape)} for {len(inputs)} inputs")
        return scores.cpu()


validators.MODELS_BY_GOAL_FUNCTION[GoalBridge] = [r".*"]  # any victim model: the wrapper returns probabilities


class TransformationBridge(WordSwap):
    """Our `Transformation` proposing edits at a nucleotide; multi-base proposals (token replacements)
    become multi-word swaps. Proposals touching a protected or already edited position are dropped."""

    def __init__(self, inner, state: ExampleState):
        super().__init__()
        self.inner, self.state = inner, state

    def _get_transformations(self, current_text, indices_to_modify):
        current = from_text(current_text)
        out, seen = [], set()
        for i in sorted(indices_to_modify):
            for edits in self.inner.propose(self.state.proposals, current, (i, i + 1)):
                if not edits or not all(self.state.editable(current, p) for p, _, _ in edits):
                    continue
                text = current_text.replace_words_at_indices([p for p, _, _ in edits], [b for _, _, b in edits])
                if text.text not in seen:
                    seen.add(text.text)
                    out.append(text)
        return out


class EditablePositions(PreTransformationConstraint):
    def __init__(self, state: ExampleState):
        self.state = state

    def _get_modifiable_indices(self, current_text):
        current = from_text(current_text)
        return {i for i in range(len(current)) if self.state.editable(current, i)}


class ThreatModelConstraint(Constraint):
    """The threat model's constraints against the original: Hamming budget, protected positions, GC shift."""

    def __init__(self, threat: ThreatModel, state: ExampleState):
        super().__init__(compare_against_original=True)
        self.threat, self.state = threat, state

    def _check_constraint(self, transformed_text, reference_text):
        original, candidate = from_text(reference_text), from_text(transformed_text)
        if len(candidate) != len(original):
            return False
        edits = diff_edits(original, candidate)
        reference = Original(original, {}, frozenset(self.state.protected))
        return bool(self.threat.admit([Candidate(candidate, edits, edits)], reference)[0])


class TextAttackRunner:
    def __init__(self, victim, threat: ThreatModel, transformation, search_method):
        self.state = ExampleState()
        budget = threat.query_budget if threat.query_budget is not None else float("inf")
        self.goal_function = GoalBridge(VictimWrapper(victim), query_budget=budget, model_batch_size=victim.batch_size)
        constraints = [EditablePositions(self.state), ThreatModelConstraint(threat, self.state)]
        self.attack = Attack(self.goal_function, constraints, TransformationBridge(transformation, self.state),
                             search_method)

    def run(self, sequence: str, label: int, goal: Goal, protected: set, rng: np.random.Generator):
        """One TextAttack attack. Its searches draw from numpy's and Python's global generators: seeded
        from the example's own generator and restored afterwards."""
        self.state.original, self.state.protected = sequence, set(protected)
        self.state.proposals = self.attack.transformation.inner.prepare(sequence, rng)
        self.goal_function.goal = goal
        seed = int(rng.integers(2**32))
        np_state, py_state = np.random.get_state(), random.getstate()
        np.random.seed(seed)
        random.seed(seed)
        try:
            return self.attack.attack(to_text(sequence), int(label))
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def textattack_search(runner: TextAttackRunner, spec, victim, example, goal, rng, budget):
    """The engine's search interface around one TextAttack attack; queries are TextAttack's count."""
    clean = (yield [example.sequence])[0]
    if (skip := skipped(goal, clean, example.label)) is not None:
        return skip
    result = runner.run(example.sequence, example.label, goal, spec.threat.protected_positions(example.meta), rng)
    if isinstance(result, SkippedAttackResult):
        raise RuntimeError(f"{example.id}: TextAttack skipped an example the engine attacks")
    final = result.perturbed_result
    adv = from_text(final.attacked_text)
    probs = np.asarray(final.raw_output, dtype=np.float32)
    if isinstance(result, SuccessfulAttackResult):  # TextAttack cannot walk on: a rounding-only success fails
        probs = yield from decided_probs(victim, adv, probs)
    won = isinstance(result, SuccessfulAttackResult) and goal.reached(probs[None])[0]
    status = Status.SUCCESS if won else Status.FAILED
    return Outcome(status, clean, adv, probs, diff_edits(example.sequence, adv), queries=int(final.num_queries))
