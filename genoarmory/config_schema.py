"""The composed config's schema, checked right after composition, before any command reads it.

Why pydantic after composition rather than dataclasses in Hydra's ConfigStore: OmegaConf's structured
configs cannot express what these settings need — unions (`batch_size: auto | positive int`,
`protected: meta | null | spans`), ranges (`dataset.limit > 0`, `max_perturb_ratio` in (0, 1]) or
patterns (`device=cuda:N`) — so a second, hand-written check would be needed anyway; and a ConfigStore
schema materialises its fields into the composed config, which would change every config hash and the
embedded models' cache keys. Here the YAML stays the one source of values; the schema only says which
keys exist and what each may hold, and gives every error its key path, so a bad override is one line:
`attack.max_perturb_ratio='abc': expected a number in (0, 1]`.

What is checked: every key of the run-wide settings, the model (by `model.family`), the dataset (its
loader's own signature says which `dataset.loader.*` keys exist), the attack (by `attack.recipe`) and
the defense (by `defense.trainer`); unknown keys are refused (`+attack.bogus=1`), and every `_target_`,
`recipe` and `trainer` must be one of GenoArmory's own (`config.ALLOWED`). Two values are normalised
in place, since the code relies on their type: `offline` becomes a real bool (HF_HUB_OFFLINE=1 gives
the string '1'), and names, ids and paths given as numbers (`model.revision=1234567`) become strings.
This module holds the schema itself; config_check.py applies it, config_compose.py composes and checks.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Callable, Optional

from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from genoarmory.config import ALLOWED, CONF_DIR, as_bool, safe_parts
from genoarmory.errors import UserError

# ---- values: each names what it allows, which is what a one-line error says --------------------------


def _value(expected: str, ok: Callable[[Any], bool], convert: Callable[[Any], Any] | None = None):
    def check(value):
        if not ok(value):
            raise PydanticCustomError("genoarmory", expected.replace("{", "{{").replace("}", "}}"))
        return convert(value) if convert else value
    return Annotated[Any, PlainValidator(check)]


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _nullable(expected: str, ok):
    return _value(f"null or {expected}", lambda v: v is None or ok(v))


def choice(*options, nullable: bool = False):
    allowed = " | ".join(str(o) for o in options) + (" | null" if nullable else "")
    return _value(f"one of {allowed}", lambda v: (v is None and nullable) or (isinstance(v, str) and v in options))


def _textual(v) -> bool:
    return isinstance(v, str) or _int(v) or (isinstance(v, float) and math.isfinite(v))


# names, ids, paths: a number typed on the command line (`model.revision=1234567`) becomes its text
Text = _value("a string", _textual, str)
OptText = _value("null or a string", lambda v: v is None or _textual(v), lambda v: None if v is None else str(v))


def _path_name(v, slashes: bool) -> bool:
    """A name that becomes part of a path (the tiny cache, default run folders): config.safe_parts."""
    if not _textual(v) or (not slashes and "/" in str(v)):
        return False
    try:
        safe_parts(str(v), "name")
    except UserError:
        return False
    return True


# model/attack/defense names (one path part) and dataset names (parts joined by '/', as motif/tata)
PATH_NAME = "a name of letters, digits and . _ + = @ - (it becomes part of a path: no '/', no '..')"
Name = _value(PATH_NAME, lambda v: _path_name(v, False), str)
TaskName = _value(PATH_NAME.replace("no '/', ", "parts joined by '/', "), lambda v: _path_name(v, True), str)
Bool = _value("true or false", lambda v: isinstance(v, bool))
PosInt = _value("a positive integer", lambda v: _int(v) and v > 0)
OptPosInt = _nullable("a positive integer", lambda v: _int(v) and v > 0)
NonNegInt = _value("an integer >= 0", lambda v: _int(v) and v >= 0)
OptNonNegInt = _nullable("an integer >= 0", lambda v: _int(v) and v >= 0)
PosNum = _value("a number > 0", lambda v: _num(v) and v > 0)
OptPosNum = _nullable("a number > 0", lambda v: _num(v) and v > 0)
NonNegNum = _value("a number >= 0", lambda v: _num(v) and v >= 0)
Ratio = _value("a number in (0, 1]", lambda v: _num(v) and 0 < v <= 1)
Unit = _value("a number in [0, 1]", lambda v: _num(v) and 0 <= v <= 1)
OptUnit = _nullable("a number in [0, 1]", lambda v: _num(v) and 0 <= v <= 1)
Cosine = _value("a number in [-1, 1]", lambda v: _num(v) and -1 <= v <= 1)
FalseOrAuto = _value("false or auto", lambda v: v is False or v == "auto")
AutoOrPosInt = _value("auto or a positive integer", lambda v: v == "auto" or (_int(v) and v > 0))
OptAutoOrPosInt = _value("auto, null or a positive integer", lambda v: v in ("auto", None) or (_int(v) and v > 0))
DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?|mps")
Device = _value("auto | cpu | cuda | cuda:N | mps", lambda v: isinstance(v, str) and DEVICE.fullmatch(v) is not None)
Offline = _value("true or false", lambda v: _offline(v) is not None, lambda v: _offline(v))


def _offline(value) -> bool | None:
    try:
        return as_bool(value, "offline")  # config.is_offline's reading: true/false, 1/0, yes/no, on/off
    except UserError:
        return None


def _shard(v) -> bool:
    if v is None:
        return True
    match = re.fullmatch(r"(\d+)/(\d+)", v) if isinstance(v, str) else None
    return match is not None and 0 <= int(match[1]) < int(match[2])


Shard = _value("null or i/n with 0 <= i < n (e.g. 0/4)", _shard)


def _spans(v) -> bool:
    return v in ("meta", None) or (isinstance(v, list) and all(
        isinstance(s, list) and len(s) >= 2 and _int(s[0]) and _int(s[1]) and 0 <= s[0] < s[1] for s in v))


Protected = _value("meta, null or a list of [start, end) spans", _spans)


def own(role: str):
    """A dotted name that must be one of GenoArmory's own functions for `role` (config.ALLOWED)."""
    return _value(f"one of GenoArmory's own {role}s ({', '.join(sorted(ALLOWED[role]))})",
                  lambda v: isinstance(v, str) and v in ALLOWED[role])


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---- run-wide settings ---------------------------------------------------------------------------------

class Sequence(Node):
    policy: choice("error", "skip", "replace")
    too_long: choice("error", "truncate")


class Train(Node):
    epochs: PosInt
    batch_size: PosInt
    lr: PosNum
    weight_decay: NonNegNum
    warmup_ratio: Unit
    max_train: OptPosInt
    eval_every: PosInt


class TrainChanges(Node):
    """model.train / defense.train: changes to train.* (null keeps the global value)."""
    epochs: OptPosInt = None
    batch_size: OptPosInt = None
    lr: OptPosNum = None
    weight_decay: _nullable("a number >= 0", lambda v: _num(v) and v >= 0) = None
    warmup_ratio: OptUnit = None
    max_train: OptPosInt = None
    eval_every: OptPosInt = None


# ---- model: by model.family ----------------------------------------------------------------------------

class ModelBase(Node):
    name: Name
    path: OptText
    hub_id: OptText
    revision: OptText
    trust_remote_code: Bool
    allow_pickle: Bool
    max_length: PosInt
    quantize: choice("int8", "int8-dynamic", "int8-weight-only", "int8-torch-ao", nullable=True)
    compile: FalseOrAuto = False  # models/compiled.py
    rc: choice("none", "average")  # models/rc_average.py RC_MODES
    mlm: OptText = None
    train: Optional[TrainChanges] = None


class TinyArch(Node):
    hidden_size: PosInt
    num_hidden_layers: PosInt
    num_attention_heads: PosInt
    intermediate_size: PosInt


class TinyModel(ModelBase):
    family: choice("tiny")
    tokenizer: choice("char", "kmer6", "bpe")
    bpe_vocab_size: OptPosInt = None
    arch: TinyArch
    pretrain_mlm_epochs: NonNegInt


class HubModel(ModelBase):
    family: choice("hf")
    finetuned_id: OptText
    use_finetuned: Bool
    tokenization: choice("auto", "char", "kmer", "bpe", "overlapping_kmer")  # auto: conf/model/local.yaml


MODELS = {"tiny": TinyModel, "hf": HubModel}

# ---- attack: by attack.recipe --------------------------------------------------------------------------

RECIPES = "genoarmory.attacks.recipes."


class PartialNode(Node):
    """A `_target_`/`_partial_` node: one of GenoArmory's own parts; its settings are checked against the
    part's signature (signature_errors)."""
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    target: Any = Field(alias="_target_")
    partial: Bool = Field(alias="_partial_")


def part(role: str):
    class Part(PartialNode):
        target: own(role) = Field(alias="_target_")
    Part.__name__ = f"{role.title()}Node"
    return Part


TransformationNode, FilterNode = part("transformation"), part("filter")


class Threat(Node):
    """conf/attack/_threat.yaml: the threat model every attack shares."""
    name: Name
    recipe: own("recipe")
    max_perturb_ratio: Ratio
    edits: choice("substitution", "indel", "all")  # attacks/constraints EDIT_KINDS
    max_edit_distance: _value("null or a number in (0, 1]", lambda v: v is None or (
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1))
    length: choice("keep", "change")  # attacks/constraints LENGTHS
    query_budget: OptPosInt
    max_gc_shift: OptUnit
    protected: Protected
    preserve: choice("auto", "oracle", "elements", "none")  # data/oracles/check.py MODES
    oracle: OptText
    oracle_model: _value("null or a conf/model name", lambda v: v is None or (
        isinstance(v, str) and "/" not in v and (CONF_DIR / "model" / f"{v}.yaml").is_file()))
    targeted: Bool
    target_label: OptNonNegInt
    goal: choice("one_strand", "both_strands")  # attacks/strands.py GOALS
    parallel: OptAutoOrPosInt = None   # examples the engine steps together (attacks/engine.py)


MLM_TOKENIZATION = choice("char", "kmer", "bpe", "overlapping_kmer", nullable=True)


class BertAttack(Threat):
    mlm: OptText
    k: PosInt
    mlm_tokenization: MLM_TOKENIZATION = None
    transformation: TransformationNode


class TextFooler(Threat):
    neighbours: PosInt
    min_cos_sim: Cosine
    window: PosInt
    min_similarity: Cosine
    transformation: TransformationNode
    candidate_filter: FilterNode


class RandomMutation(Threat):
    transformation: TransformationNode


class Fimba(Threat):
    attribution: choice("integrated_gradients", "input_x_gradient", "gradient_shap")
    steps: PosInt
    units: choice("nucleotide", "token")
    grad_batch_size: AutoOrPosInt
    transformation: TransformationNode


class Pgd(Threat):
    norm: choice("l2", "linf")
    eps: PosNum
    step: PosNum
    iters: PosInt
    random_start: Bool
    grad_batch_size: AutoOrPosInt


class SearchNode(PartialNode):
    target: own("search") = Field(alias="_target_")
    partial: Bool = Field(False, alias="_partial_")


class TextAttackSearch(Threat):
    search: Text
    transformation: Text
    neighbours: PosInt
    min_cos_sim: Cosine
    mlm: OptText
    k: PosInt
    mlm_tokenization: MLM_TOKENIZATION = None
    searches: dict[str, SearchNode]
    transformations: dict[str, TransformationNode]


ATTACKS = {RECIPES + "bertattack.build": BertAttack, RECIPES + "textfooler.build": TextFooler,
           RECIPES + "random_mutation.build": RandomMutation, RECIPES + "fimba.build": Fimba,
           RECIPES + "pgd.build": Pgd, RECIPES + "textattack_search.build": TextAttackSearch}
assert set(ATTACKS) == ALLOWED["recipe"]

# ---- defense: by defense.trainer -----------------------------------------------------------------------


class NoDefense(Node):
    name: Name


class Defense(Node):
    name: Name
    trainer: own("trainer")
    baseline_run: OptText
    max_clean: OptPosInt
    train: Optional[TrainChanges]


class AT(Defense):
    n_adversarial: PosInt
    regenerate_every: OptPosInt


class FreeLB(Defense):
    adv_lr: PosNum
    init_mag: NonNegNum
    adv_steps: PosInt
    adv_max_norm: NonNegNum


class ADFAR(Defense):
    n_adversarial: PosInt
    threshold: Unit
    ratio: Ratio
    syn_num: PosInt
    syn_threshold: Cosine
    most_freq: PosInt
    rare_below: NonNegNum


def _radii(v) -> bool:
    return isinstance(v, list) and bool(v) and all(_int(r) and 0 <= r <= 64 for r in v)


class Smoothing(Defense):
    """conf/defense/smoothing.yaml (defenses/smoothing.py, certificate.py)."""
    noise: _value("a number with 0 < noise < 0.75", lambda v: _num(v) and 0 < v < 0.75)
    augment: NonNegInt
    votes: PosInt
    n0: PosInt
    n: PosInt
    alpha: _value("a number with 0 < alpha < 0.5", lambda v: _num(v) and 0 < v < 0.5)
    radii: _value("a non-empty list of Hamming radii 0..64", _radii)


DEFENSES = {"genoarmory.defenses.at.train": AT, "genoarmory.defenses.freelb.train": FreeLB,
            "genoarmory.defenses.adfar.train": ADFAR, "genoarmory.defenses.smoothing.train": Smoothing}
assert set(DEFENSES) == ALLOWED["trainer"]

# ---- dataset: the selection keys, plus what its loader takes --------------------------------------------


class Dataset(Node):
    name: TaskName
    task: OptText = None
    split: Text
    limit: OptPosInt
    seed: NonNegInt
    shard: Shard
    loader: dict   # checked against the loader's own signature (signature_errors)


class FastaDataset(Dataset):
    path: OptText
    labels: OptText
    num_labels: OptPosInt
    train_path: OptText
    dev_path: OptText


class CsvDataset(Dataset):
    path: OptText
    num_labels: OptPosInt


class GenoAdvDataset(Dataset):
    source: Text
    revision: OptText


DATASETS = {"genoarmory.data.fasta.load_fasta_task": FastaDataset, "genoarmory.data.csv_tasks.load_user_csv": CsvDataset,
            "genoarmory.genoadv.load.load_genoadv_task": GenoAdvDataset}


# ---- each command's config -----------------------------------------------------------------------------

class RunSettings(Node):
    """conf/_run.yaml."""
    run_dir: OptText
    overwrite: Bool
    data_root: Text
    cache_dir: OptText
    offline: Offline
    seed: NonNegInt
    device: Device
    batch_size: AutoOrPosInt
    progress: Bool
    sequence: Sequence
    train: Train


class TrainCommand(RunSettings):
    model: dict
    dataset: dict


class AttackCommand(TrainCommand):
    attack: dict
    defense: NoDefense


class DefendCommand(TrainCommand):
    attack: dict
    defense: dict


CORRUPTIONS = ("illumina", "nanopore", "n_mask", "truncate")  # data/corruptions.py PROFILES (a test checks)


def _profiles(v) -> bool:
    return isinstance(v, dict) and bool(v) and all(
        k in CORRUPTIONS and isinstance(sev, list) and sev and all(_num(x) and 0 <= x <= 1 for x in sev)
        for k, sev in v.items())


class Corruption(Node):
    profiles: _value("a mapping of illumina | nanopore | n_mask | truncate to lists of severities in [0, 1]",
                     _profiles)


class CorruptCommand(TrainCommand):
    corruption: Corruption


class CertifyCommand(TrainCommand):
    defense: dict


class GenoAdvBuild(Node):
    runs: _value("a run folder or a list of them", lambda v: _textual(v) or (
        isinstance(v, list) and all(_textual(x) for x in v)), lambda v: [str(x) for x in v] if isinstance(v, list) else str(v))
    run_dir: OptText
    data_root: OptText
    license: Text
    progress: Bool
    include_label_changed: Bool


class LeaderboardBuild(Node):
    run_dir: OptText


COMMANDS: dict[str, type[Node]] = {"attack": AttackCommand, "defend": DefendCommand, "train": TrainCommand,
                                   "certify": CertifyCommand, "corrupt": CorruptCommand,
                                   "genoadv": GenoAdvBuild, "leaderboard": LeaderboardBuild}
