"""GenoAdv's columns, split names and config names: one Arrow schema for every split and config.

Clean rows carry `sequence`, `label`, `id`, `source_split`, `meta` and nulls for the provenance columns;
adversarial rows carry all of them. `sequence` + `label` are what a classifier trains on, as in the
published GenoAdv; the rest is the provenance it lacks.
"""

from __future__ import annotations

import pyarrow as pa

# GenoArmory's task split -> GenoAdv split. `test` holds only the clean test split; adversarial examples
# made from test examples go to their own split so they are available for robust evaluation only.
CLEAN_SPLIT = {"train": "train", "dev": "validation", "test": "test"}
ADVERSARIAL_SPLIT = {"train": "train", "dev": "validation", "test": "test_adversarial"}
SPLIT_ORDER = ("train", "validation", "test", "test_adversarial")
TRAINING_SPLITS = ("train", "validation")  # no test-derived sequence may appear in these
TASK_SPLIT = {"train": "train", "validation": "dev", "test": "test", "test_adversarial": "test_adversarial"}

EDIT = pa.struct([("position", pa.int32()), ("ref", pa.string()), ("alt", pa.string())])

# (column, Arrow type, what it holds) — the card's column table is rendered from this list.
FIELDS = [
    ("sequence", pa.string(), "what a model reads: the adversarial sequence, or the clean one"),
    ("label", pa.int64(), "the TRUE label (an adversarial example keeps its original's label)"),
    ("is_adversarial", pa.bool_(), "true for a sequence made by an attack"),
    ("id", pa.string(), "unique in its split: clean `train:17`; adversarial `CONFIGHASH/train:17`"),
    ("task", pa.string(), "GenoArmory dataset name, e.g. `gue/tf/0`"),
    ("source_split", pa.string(), "split of the example it comes from: train, dev or test"),
    ("original_sequence", pa.string(), "adversarial rows: the clean sequence the attack started from"),
    # an attack.edits=indel|all run's rows hold insertions and deletions too (genoarmory/edits.py's Edit)
    ("edits", pa.list_(EDIT), "{position, ref, alt}, every position 0-based in original_sequence (never shifted by "
                              "another edit), together turning it into sequence: a substitution has one base each; "
                              "an insertion has ref empty and puts alt before base `position` (at "
                              "len(original_sequence): at the end); a deletion has alt empty and removes ref from "
                              "`position`. Under attack.length=keep they include the 3' trim or pad that keeps the "
                              "length"),
    ("n_edits", pa.int32(), "entries in edits (an insertion or deletion of several bases is one)"),
    ("perturbation_rate", pa.float64(), "edit distance / length of original_sequence: one per substituted, inserted "
                                        "or deleted base, the 3' length fit aside"),
    ("attack", pa.string(), "attack recipe (bertattack, textfooler, random, ...)"),
    ("victim", pa.string(), "attacked model's config name (tiny-6mer, dnabert2, ...)"),
    ("victim_path", pa.string(), "local folder the victim's weights were loaded from"),
    ("victim_revision", pa.string(), "hub commit of the weights, else `sha256:` of the weight files"),
    ("victim_config", pa.string(), "the run's model config (JSON): what `genoadv verify` rebuilds the victim from"),
    ("defense", pa.string(), "defense the victim was trained with (none, at, freelb, adfar)"),
    ("max_perturb_ratio", pa.float64(), "budget: at most this fraction of nucleotides may change"),
    ("query_budget", pa.int64(), "budget: model queries per example (null = unlimited)"),
    ("targeted", pa.bool_(), "targeted attack"),
    ("target_label", pa.int64(), "targeted attacks: the class aimed at"),
    ("queries", pa.int64(), "model queries the attack used on this example"),
    ("clean_pred", pa.int64(), "victim's prediction on original_sequence"),
    ("adv_pred", pa.int64(), "victim's prediction on sequence"),
    ("adv_confidence", pa.float64(), "victim's probability of adv_pred"),
    ("adv_probs", pa.list_(pa.float64()), "victim's class probabilities on sequence"),
    ("record_id", pa.string(), "the attack record's id (= the original example's id, its split as prefix)"),
    ("config_hash", pa.string(), "hash of the attack run's configuration"),
    ("seed", pa.int64(), "the attack run's seed"),
    ("meta", pa.string(), "the example's metadata as JSON (e.g. ground-truth motif spans, source line)"),
    ("label_preserved", pa.bool_(), "adversarial rows: the task's label check says the true label survived "
                                    "(null: not verifiable on this task)"),
    ("label_check", pa.string(), "adversarial rows: which check judged it (JSON: mode, checker, exact, enforced)"),
]
SCHEMA = pa.schema([(name, type_) for name, type_, _ in FIELDS])
COLUMNS = SCHEMA.names


def config_name(dataset_name: str) -> str:
    """GenoAdv config for a GenoArmory dataset name.

    GUE's EMP and prom tasks keep their own names, as in the published GenoAdv (`H3`, `prom_300_all`);
    other GUE groups get their group as a prefix because their task names repeat (`tf_0`, `mouse_0`,
    `splice_reconstructed`, `virus_covid`); anything else is its name with '/' -> '_' (`motif_tata`).
    """
    parts = str(dataset_name).split("/")
    if parts[0] == "gue" and len(parts) == 3:
        group, leaf = parts[1], parts[2]
        return leaf if group in ("EMP", "prom") else f"{group}_{leaf}"
    if parts[0] == "genoadv" and len(parts) == 2:  # a GenoAdv config attacked again keeps its name
        return parts[1]
    return "_".join(parts)


def row(**values) -> dict:
    """A full row: every column present (None where not given)."""
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise KeyError(f"not GenoAdv columns: {sorted(unknown)}")
    return {c: values.get(c) for c in COLUMNS}
