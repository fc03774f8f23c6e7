"""The metric registry: every number GenoArmory reports, named once, with its meaning.

Every table (the one-screen summary, `read`, the sweep table, `defend`'s comparison) and every page
iterates this list, so a new metric is one entry here (and its computation in compute.py). The JSON key
is the reference's name where it has one (`origin_acc`, `after_attack_acc`, `asr`, `average_queries`,
`dsr`), so the reference's readers keep working.

`better`: 'higher' or 'lower' is better for the *model's robustness or quality*, None when neither
(a count). `shows`: where the metric appears by default:
  report   the one-screen summary after attack/defend
  table    `read` over runs and the sweep table
  compare  defend's undefended -> defended table
  board    the leaderboard's index table (every entry stores every numeric metric its summary has that
           applies to its run)
  corrupt  `corrupt`'s per-profile table (CORRUPTION_ROW_METRICS)

A table prints a metric under one of its registry names only (`NAMES`: its key, label or short header;
tests/test_metric_names.py checks every command's table).

`unit` says what kind of number it is: 'rate' (a share in [0, 1]), 'correlation' (in [-1, 1]) or 'count'
(>= 0); the leaderboard's entry schema bounds each metric by it. `short` is a column header.

`only_if`: the runs a metric means something for, judged from their summary (None: every run). Where it does
not apply, summary.json still holds the value (`leaderboard add` checks it against the records), but `cell`
gives None (no row in the one-screen summary or defend's comparison) and `leaderboard add` does not file it:
a substitution run's `average_indel_bases` is 0 by construction, not a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from genoarmory.edits import kinds_label


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    fmt: str
    meaning: str
    better: str | None = None
    shows: frozenset = frozenset({"report", "table"})
    render: Callable[[dict], str | None] | None = None  # a custom cell from the whole summary
    unit: str = "rate"
    short: str | None = None
    source: tuple[str, ...] = ()  # where the value sits when not at summary[key]: a path of nested keys
    only_if: Callable[[dict], bool] | None = None  # the runs it applies to, from their summary (None: all)

    def applies(self, summary: dict) -> bool:
        return self.only_if is None or self.only_if(summary)

    def value(self, summary: dict):
        """The raw value in `summary` (at `source` when set, else at `key`), None when absent."""
        if not self.source:
            return summary.get(self.key)
        node = summary
        for part in self.source:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def cell(self, summary: dict) -> str | None:
        """The formatted value in `summary`, or None when the summary does not have it (or it does not apply)."""
        if not self.applies(summary):
            return None
        if self.render is not None:
            return self.render(summary)
        value = self.value(summary)
        if value is None or isinstance(value, (dict, list, str)) or isinstance(value, bool):
            return None
        return self.fmt.format(value)


def _examples(summary: dict) -> str | None:
    if "n_examples" not in summary:
        return None
    return f"{summary['n_examples']} ({summary.get('n_attacked', '?')})"


def _checked(key: str):
    """A label-preservation metric: 'not verifiable' where the task has no oracle, never a silent blank."""
    def cell(summary: dict) -> str | None:
        if key not in summary and "label_check" not in summary:
            return None
        check = summary.get("label_check") or {}
        if summary.get(key) is None or not check.get("verifiable", False):
            return "not verifiable"
        return BY_KEY[key].fmt.format(summary[key])
    return cell


def _allows_indels(summary: dict) -> bool:
    """The run's threat model may insert or delete (attack.edits=indel|all), as its title says."""
    attack = summary.get("attack")
    return isinstance(attack, dict) and kinds_label(attack) is not None


def _s(*names: str) -> frozenset:
    return frozenset(names)


METRICS: tuple[Metric, ...] = (
    Metric("origin_acc", "clean accuracy", "{:.3f}",
           "accuracy on the original sequences", "higher", _s("report", "table", "compare", "board"),
           short="Clean acc"),
    Metric("after_attack_acc", "accuracy under attack", "{:.3f}",
           "accuracy when every successful attack's adversarial sequence replaces its original", "higher",
           _s("report", "table", "compare", "board"), short="Robust acc"),
    Metric("asr", "attack success rate (ASR)", "{:.3f}",
           "successes / originally-correct examples (prediction changed within the budget)", "lower",
           _s("report", "table", "compare", "board"), short="ASR"),
    Metric("valid_asr", "valid ASR (true label kept)", "{:.3f}",
           "label-preserving successes / originally-correct examples: the model was fooled AND the task's oracle "
           "says the true label survived", "lower", _s("report", "table", "compare", "board"),
           render=_checked("valid_asr"), short="Valid ASR"),
    Metric("label_changed", "successes that changed the label", "{}",
           "successes whose oracle label (or label-defining elements) changed: the model may have been right",
           None, _s("report", "table", "compare", "board"), render=_checked("label_changed"), unit="count",
           short="Label changed"),
    Metric("valid_after_attack_acc", "accuracy under label-preserving attack", "{:.3f}",
           "accuracy when only label-preserving successes count as errors", "higher", _s("table"),
           render=_checked("valid_after_attack_acc"), short="Valid robust acc"),
    Metric("n_skipped_target", "skipped: already the target class", "{}",
           "targeted attacks: examples whose true class already is the target (not attacked)", None, _s(),
           unit="count"),
    Metric("realised_asr", "ASR of realised DNA", "{:.3f}",
           "PGD: successes of the DNA sequences its embedding perturbation was realised as (== asr)", "lower",
           _s()),
    Metric("embedding_asr", "ASR in embedding space (not DNA)", "{:.3f}",
           "PGD: successes in input-embedding space, before realising DNA (what the paper reports)", "lower",
           _s("report", "table", "board"), short="Embedding ASR"),
    Metric("dsr", "defense success rate (DSR)", "{:.3f}",
           "1 - ASR of the defended model (1 - valid ASR where the task has a label oracle)", "higher",
           _s("report", "table", "compare", "board"), short="DSR"),
    Metric("average_queries", "queries / attacked example", "{:.1f}",
           "distinct sequences scored per attacked example (successes and failures)", "higher",
           _s("report", "table", "compare", "board"), unit="count", short="Queries"),
    Metric("average_gradient_queries", "gradient passes / attacked example", "{:.1f}",
           "forward+backward passes per attacked example (PGD steps, attribution steps)", None, _s("report"),
           unit="count"),
    Metric("perturbation_rate", "perturbation rate (nt edited / nt)", "{:.4f}",
           "edited nucleotides / length, over successes", "higher", _s("report", "table", "compare", "board"),
           short="Pert."),
    Metric("average_edits", "edits / success", "{:.2f}", "nucleotide edits per success (edit distance: each "
           "substituted, inserted or deleted base; a fixed length's fit aside)", "higher", _s("report"), unit="count"),
    Metric("average_indel_bases", "inserted + deleted nt / success", "{:.2f}", "bases inserted or deleted per "
           "success (attack.edits=indel|all; the length fit aside)", None, _s("report"), unit="count",
           only_if=_allows_indels),
    Metric("clean_mcc", "clean MCC", "{:.3f}", "Matthews correlation on the originals (GUE's metric)", "higher",
           _s("report", "table", "compare", "board"), unit="correlation", short="MCC"),
    Metric("adv_mcc", "MCC under attack", "{:.3f}", "Matthews correlation under attack", "higher",
           _s("report", "table", "compare"), unit="correlation", short="Adv MCC"),
    Metric("clean_f1", "clean F1", "{:.3f}", "macro F1 on the originals", "higher", _s("table")),
    Metric("adv_f1", "F1 under attack", "{:.3f}", "macro F1 under attack", "higher", _s("table")),
    Metric("rc_consistency", "RC consistency (same prediction on both strands)", "{:.3f}",
           "fraction of examples whose prediction on the reverse complement equals the prediction on the "
           "original (a requirement only on strand-agnostic tasks: the summary's `strand`)", "higher",
           _s("report", "table", "compare")),
    Metric("rc_prob_gap", "RC probability gap", "{:.3f}",
           "mean total-variation distance between the answers on the original and on its reverse complement",
           "lower", _s("report", "table")),
    Metric("both_strands_asr", "ASR on both strands at once", "{:.3f}",
           "successes whose adversarial sequence also fools the model on its reverse complement / "
           "originally-correct examples (== asr under attack.goal=both_strands)", "lower",
           _s("report", "table", "compare")),
    Metric("n_rc_checked", "examples with the reverse strand scored", "{}",
           "records carrying rc_probs (rc_consistency's denominator)", None, _s(), unit="count"),
    Metric("smoothed_acc", "smoothed accuracy (majority vote)", "{:.3f}",
           "certify: accuracy of the smoothed classifier's vote on n0 noisy copies (no abstention)", "higher",
           _s("report", "table")),
    *(Metric(f"certified_acc_r{r}", f"certified accuracy, radius {r}", "{:.3f}",
             f"certify: examples predicted correctly and certified against every change of <= {r} bases "
             "(Lee et al. 2019's certificate on a Clopper-Pearson bound; per example with prob. >= 1 - alpha)",
             "higher", _s("report", "table")) for r in range(4)),
    Metric("abstain_rate", "abstained (bound <= 1/2)", "{:.3f}",
           "certify: examples whose vote's lower bound did not exceed 1/2", "lower", _s("report")),
    Metric("mean_certified_radius", "mean certified radius", "{:.2f}",
           "certify: certified Hamming radius of correct examples (0 when wrong or abstained; capped at the "
           "largest radius asked)", "higher", _s("report", "table")),
    Metric("corrupted_acc_mean", "accuracy under corruptions (mean)", "{:.3f}",
           "corrupt: mean accuracy over every sequencing-error profile and severity (data/corruptions.py)",
           "higher", _s("report", "table")),
    Metric("corrupted_acc_worst", "accuracy under the worst corruption", "{:.3f}",
           "corrupt: the lowest accuracy over profiles and severities", "higher", _s("report", "table")),
    Metric("corrupted_valid_acc_mean", "accuracy under corruptions, true label kept", "{:.3f}",
           "corrupt: mean accuracy over the corrupted reads whose true label survived (a truncated read that lost "
           "its motif is a negative: the model may be right to change its answer)", "higher", _s("report", "table")),
    Metric("corrupted_mcc_mean", "MCC under corruptions (mean)", "{:.3f}",
           "corrupt: mean MCC over every profile and severity", "higher", _s("report", "table")),
    Metric("n_examples", "examples (attacked)", "{}", "examples selected (of them attacked: originally correct)",
           None, _s("report", "table"), render=_examples, unit="count"),
    Metric("n_attacked", "attacked examples", "{}", "originally-correct examples (ASR's denominator)", None, _s(),
           unit="count"),
    Metric("n_success", "successes", "{}", "examples whose prediction the attack changed", None, _s(),
           unit="count"),
    Metric("seconds", "search seconds (sum)", "{:.1f}",
           "sum over examples of each search's own wall time (examples overlap, so this exceeds wall time)",
           None, _s(), unit="count"),
    Metric("wall_seconds", "wall seconds", "{:.1f}", "wall time of the whole attack", None, _s(), unit="count"),
)

TRAIN_METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "test accuracy", "{:.3f}", "accuracy on the evaluation split", "higher", _s("table")),
    Metric("f1", "test F1", "{:.3f}", "macro F1 on the evaluation split", "higher", _s("table")),
    Metric("mcc", "test MCC", "{:.3f}", "Matthews correlation on the evaluation split", "higher", _s("table"),
           unit="correlation"),
    Metric("n_test", "test examples", "{}", "examples evaluated", None, _s("table"), unit="count"),
)

# Where the successes' edits fell (summary.motif_enrichment, analysis/enrichment.py): shown by report and
# `read` beside the metrics, not stored as a leaderboard metric (an entry keeps the whole enrichment)
ENRICHMENT_METRICS: tuple[Metric, ...] = (
    Metric("motif_fold", "edits in motifs (fold over chance)", "{:.2f}",
           "share of the successes' edits inside the task's motifs / the share expected by chance", None,
           _s("report", "table"), unit="count", source=("motif_enrichment", "fold_enrichment")),
    Metric("motif_p", "motif enrichment p-value", "{:.2e}",
           "binomial test of that share against chance", None, _s("table"), source=("motif_enrichment", "p_value")),
)


def _unverifiable(key: str, fmt: str):
    return lambda row: None if key not in row else ("not verifiable" if row[key] is None else fmt.format(row[key]))


# One row of `corrupt`'s table: one sequencing-error profile at one severity (commands/corrupt.py)
CORRUPTION_ROW_METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "accuracy", "{:.3f}", "accuracy on the reads corrupted by this profile and severity",
           "higher", _s("corrupt")),
    Metric("mcc", "MCC", "{:.3f}", "Matthews correlation on those reads", "higher", _s("corrupt"), unit="correlation"),
    Metric("label_changed", "label changed", "{}", "corrupted reads whose true label the task's check says changed",
           None, _s("corrupt"), render=_unverifiable("label_changed", "{}"), unit="count"),
    Metric("valid_accuracy", "accuracy (label kept)", "{:.3f}", "accuracy on the corrupted reads whose true label survived",
           "higher", _s("corrupt"), render=_unverifiable("valid_accuracy", "{:.3f}")),
)

BY_KEY = {m.key: m for m in METRICS + TRAIN_METRICS + ENRICHMENT_METRICS}
# every name a table may print a metric under: its key (machine-readable tables), label and short header
NAMES = frozenset(name for m in METRICS + TRAIN_METRICS + ENRICHMENT_METRICS + CORRUPTION_ROW_METRICS
                  for name in (m.key, m.label, m.short) if name)


def shown(where: str, metrics: tuple[Metric, ...] = METRICS) -> list[Metric]:
    return [m for m in metrics if where in m.shows]


def keys(where: str, metrics: tuple[Metric, ...] = METRICS) -> tuple[str, ...]:
    return tuple(m.key for m in shown(where, metrics))
