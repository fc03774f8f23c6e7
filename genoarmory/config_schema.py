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
"""

from __future__ import annotations

import inspect
import math
import re
import typing
from typing import Annotated, Any, Callable, Optional

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
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
    grad_batch_size: PosInt
    transformation: TransformationNode


class Pgd(Threat):
    norm: choice("l2", "linf")
    eps: PosNum
    step: PosNum
    iters: PosInt
    random_start: Bool
    grad_batch_size: PosInt


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


# ---- checking -------------------------------------------------------------------------------------------

def _where(loc: tuple, prefix: str) -> str:
    return ".".join([prefix, *(str(p) for p in loc)] if prefix else [str(p) for p in loc])


def _describe(model: type[Node]) -> str:
    return ", ".join(f.alias or name for name, f in model.model_fields.items())


def _error_line(err: dict, prefix: str, model: type[Node], data) -> str:
    key = _where(err["loc"], prefix)
    if err["type"] == "extra_forbidden":
        owner = model
        for part_ in err["loc"][:-1]:  # the node the unknown key was added to
            field = owner.model_fields.get(str(part_))
            kinds = (field.annotation, *typing.get_args(field.annotation)) if field is not None else ()
            owner = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
            if owner is None:
                break
        known = f" (known keys: {_describe(owner)})" if owner is not None else ""
        return f"{key}: unknown key{known}"
    if err["type"] == "missing":
        return f"{key}: missing (it is required here)"
    return f"{key}={err.get('input')!r}: expected {err['msg']}" if err["type"] == "genoarmory" else f"{key}: {err['msg']}"


def _check(model: type[Node], data, prefix: str) -> tuple[Node | None, list[str]]:
    if not isinstance(data, dict):
        return None, [f"{prefix}={data!r}: expected a mapping of settings"]
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        return None, [_error_line(e, prefix, model, data) for e in err.errors()]


def signature_errors(node, role: str, prefix: str, offered: tuple[str, ...]) -> list[str]:
    """A `_target_` node: an allow-listed function of `role`, given only parameters its signature has (and
    all it requires but `offered`, which the caller passes); annotated parameters are type-checked.
    The function's signature is the schema of its node, so a new loader or part needs no entry here."""
    if not isinstance(node, dict):
        return [f"{prefix}={node!r}: expected a mapping with a _target_"]
    target = node.get("_target_")
    if not _named(target, ALLOWED[role]):
        return [f"{prefix}._target_={target!r}: expected one of GenoArmory's own {role}s "
                f"({', '.join(sorted(ALLOWED[role]))}); configs cannot name other code"]
    from genoarmory.config import own_callable

    fn = own_callable(target, role)
    params = {k: p for k, p in inspect.signature(fn).parameters.items() if k not in offered or role == "loader"}
    given = {k: v for k, v in node.items() if k not in ("_target_", "_partial_")}
    takes = ", ".join(params) or "no settings"
    errors = [f"{prefix}.{k}: unknown key ({target.rsplit('.', 1)[-1]} takes: {takes})"
              for k in given if k not in params]
    errors += [f"{prefix}.{name}: missing (it is required here)" for name, p in params.items()
               if p.default is inspect.Parameter.empty and name not in given and name not in offered]
    hints = typing.get_type_hints(fn)
    for key, value in given.items():
        if key in hints and key in params and not _fits(hints[key], value):
            errors.append(f"{prefix}.{key}={value!r}: expected {_type_text(hints[key])}")
    return errors


# what data.load_task passes to a loader itself when the loader takes it (a config may also set them)
LOADER_OFFERED = ("data_root", "policy", "cache_dir", "offline")
PART_OFFERED = ("victim", "cfg")  # what a recipe passes to every part


def _parts(attack: dict) -> list[str]:
    """The attack's `_target_` parts (transformation, candidate_filter, transformations.<name>)."""
    nodes = {f"attack.{k}": attack[k] for k in ("transformation", "candidate_filter") if isinstance(attack.get(k), dict)}
    table = attack.get("transformations")
    nodes.update({f"attack.transformations.{k}": v for k, v in (table.items() if isinstance(table, dict) else ())})
    errors = []
    for where, node in nodes.items():
        role = "filter" if where == "attack.candidate_filter" else "transformation"
        errors += signature_errors(node, role, where, PART_OFFERED)
    return errors


def _fits(hint, value) -> bool:
    """Does `value` (plain YAML data) fit the loader parameter's annotation?"""
    from pathlib import Path

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_fits(a, value) for a in args)
    if hint is type(None):
        return value is None
    if origin in (list, tuple):
        return isinstance(value, list) and (not args or all(_fits(args[0], v) for v in value))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return _int(value)
    if hint is float:
        return _num(value)
    if hint is str or hint is Path:
        return isinstance(value, str)
    return True  # an annotation plain YAML data cannot be checked against: the loader checks it


def _type_text(hint) -> str:
    if isinstance(hint, type):
        return {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}.get(
            hint.__name__, hint.__name__)
    return str(hint).replace("typing.", "").replace("NoneType", "null").replace("pathlib.", "")


def _named(value, table) -> bool:
    """`value` is a key of `table` (a value from the command line may be a list or a mapping: never a key)."""
    return isinstance(value, str) and value in table


def schema_errors(command: str, config: dict) -> tuple[list[str], dict]:
    """(one line per problem, the normalised values to write back as {dotted key: value})."""
    config = {k: v for k, v in config.items() if k != "hydra"}
    top, errors = _check(COMMANDS[command], config, "")
    found: dict[str, Node] = {"": top} if top is not None else {}
    if command in ("train", "attack", "defend", "certify", "corrupt"):
        model = config.get("model") if isinstance(config.get("model"), dict) else {}
        family = model.get("family")
        if not _named(family, MODELS):
            errors.append(f"model.family={family!r}: expected one of {' | '.join(MODELS)}")
        else:
            found["model"], more = _check(MODELS[family], model, "model")
            errors += more
        dataset = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
        loader = dataset.get("loader")
        target = loader.get("_target_") if isinstance(loader, dict) else None
        found["dataset"], more = _check(DATASETS[target] if _named(target, DATASETS) else Dataset, dataset, "dataset")
        errors += more + signature_errors(loader, "loader", "dataset.loader", LOADER_OFFERED)
    if command in ("attack", "defend"):
        attack = config.get("attack") if isinstance(config.get("attack"), dict) else {}
        recipe = attack.get("recipe")
        if not _named(recipe, ATTACKS):
            errors.append(f"attack.recipe={recipe!r}: expected one of GenoArmory's own recipes "
                          f"({', '.join(sorted(ATTACKS))}); configs cannot name other code")
        else:
            found["attack"], more = _check(ATTACKS[recipe], attack, "attack")
            errors += more + (_parts(attack) if not more else [])
            if not more and recipe == RECIPES + "textattack_search.build":
                errors += _picked(attack, "search", "searches") + _picked(attack, "transformation", "transformations")
    if command in ("defend", "certify"):
        defense = config.get("defense") if isinstance(config.get("defense"), dict) else {}
        trainer = defense.get("trainer")
        model_ = (NoDefense if trainer is None and set(defense) <= {"name"}
                  else DEFENSES[trainer] if _named(trainer, DEFENSES) else None)
        if model_ is None:
            errors.append(f"defense.trainer={trainer!r}: expected one of GenoArmory's own trainers "
                          f"({', '.join(sorted(DEFENSES))}); configs cannot name other code")
        else:
            found["defense"], more = _check(model_, defense, "defense")
            errors += more
    return errors, _normalised(found, config) if not errors else {}


def _picked(attack: dict, key: str, table: str) -> list[str]:
    if _named(attack[key], attack[table]):
        return []
    return [f"attack.{key}={attack[key]!r}: expected one of {' | '.join(attack[table])} (attack.{table})"]


def _normalised(found: dict[str, Node], config: dict) -> dict:
    """Dotted keys whose checked value differs in type from the composed one (offline -> bool, numbers
    given for names -> strings): the values the caller writes back."""
    changes: dict[str, Any] = {}

    def walk(checked, raw, path):
        if isinstance(checked, dict) and isinstance(raw, dict):
            for k, v in checked.items():
                if k in raw:
                    walk(v, raw[k], f"{path}.{k}" if path else k)
        elif type(checked) is not type(raw) and not isinstance(raw, (dict, list)):
            changes[path] = checked

    for prefix, node in found.items():
        dumped = node.model_dump(by_alias=True, exclude_unset=True)
        walk(dumped, config.get(prefix) if prefix else config, prefix)
    return changes


def check_config(command: str, cfg) -> None:
    """Check a composed DictConfig for `command`; normalise `offline` and textual values in place.
    Raises one UserError naming the first problem (and how many more there are)."""
    from omegaconf import OmegaConf, open_dict

    from genoarmory.config import plain_config

    with open_dict(cfg):
        hydra_node = cfg.pop("hydra", None)  # Hydra's own settings (compose with return_hydra_config)
    try:
        plain = plain_config(cfg)
    except Exception as err:  # an interpolation that cannot resolve (e.g. ${oc.env:...} of a bad name)
        raise UserError(f"the config does not resolve: {str(err).splitlines()[0]}") from None
    finally:
        if hydra_node is not None:
            with open_dict(cfg):
                cfg.hydra = hydra_node
    errors, changes = schema_errors(command, plain)
    if errors:
        errors = _hide_resolved(errors, OmegaConf.to_container(cfg, resolve=False))
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise UserError(errors[0] + more)
    with open_dict(cfg):
        for key, value in changes.items():
            OmegaConf.update(cfg, key, value, merge=False)


def _hide_resolved(errors: list[str], raw: dict) -> list[str]:
    """An error about a value that came from an interpolation (`model.name=${oc.env:HOME}`) names the
    interpolation, not what it resolved to: an error line never prints an environment variable's value."""
    out = []
    for line in errors:
        key = line.split("=", 1)[0] if "=" in line.split(":", 1)[0] else None
        node = raw
        for part_ in (key or "").split("."):
            node = node.get(part_) if isinstance(node, dict) else None
        if key and isinstance(node, str) and "${" in node:
            line = f"{key} (from {node[:80]!r}): expected{line.split(': expected', 1)[1]}" if ": expected" in line \
                else f"{key} (from {node[:80]!r}): not allowed"
        out.append(line)
    return out


def group_options(group: str) -> list[str]:
    """Every option of a config group, nested ones as paths (dataset: motif/tata, gue/EMP/H3, ...); bases
    (_threat, _selection) are not options."""
    root = CONF_DIR / group
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts))


def option_hint(group: str, option: str) -> str:
    """'; did you mean X? (options: ...)' for `group=option`: the closest option (case-insensitive, or the
    closest spelling), listed with its siblings when options are nested (gue/EMP/H3 beside gue/EMP/*)."""
    import difflib

    from genoarmory.errors import suggest

    options = group_options(group)
    lowered = {o.lower(): o for o in options}
    best = lowered.get(option.lower()) or next(iter(difflib.get_close_matches(option, options, n=1, cutoff=0.6)), None)
    if best is None:
        best = next(iter(difflib.get_close_matches(option.lower(), list(lowered), n=1, cutoff=0.6)), None)
        best = lowered.get(best) if best else None
    folder = best.rpartition("/")[0] if best else option.rpartition("/")[0]
    shown_ = [o for o in options if o.rpartition("/")[0] == folder] if folder and best else options
    if not folder:
        shown_ = [o for o in options if "/" not in o] + sorted({o.split("/")[0] + "/..." for o in options if "/" in o})
    listed = suggest(best or option, shown_, f"{group} options")
    return listed


def composition_error(err: Exception) -> UserError:
    """Hydra's own error for a command line it cannot compose, as one line (its first line, plus the
    options of a group when it lists them, or the override it could not parse)."""
    from hydra.errors import OverrideParseException

    text = str(err).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else type(err).__name__
    if isinstance(err, OverrideParseException):
        first = f"cannot parse the override {err.override!r}: {first} (Hydra's override grammar)"
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing and "/" in missing.group(1):
        group, _, option = missing.group(1).partition("/")
        if (CONF_DIR / group).is_dir():
            return UserError(f"{group}={option}: no such option{option_hint(group, option)}")
    if "Available options" in text:
        start = next(i for i, line in enumerate(lines) if line.startswith("Available options"))
        options = []
        for line in lines[start + 1:]:
            if line.startswith("Config search path"):
                break
            if not line.startswith("_"):  # _threat, _selection: bases, not options
                options.append(line)
        first += f"; available: {', '.join(options)}"
    elif "To append to your config use +" in text:
        first = first.rstrip(".") + " (no such key here)"
    return UserError(first.replace("\n", " "))


def compose_checked(command: str, overrides: list[str], return_hydra_config: bool = False,
                    check: bool = True) -> DictConfig:
    """The config of `command` composed with `overrides` (Hydra's compose API and override grammar) and,
    with `check`, checked against the schema; any problem is one UserError line."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from genoarmory.config import implied_overrides, register_resolvers

    register_resolvers()
    if GlobalHydra.instance().is_initialized():  # left by an earlier Hydra app in this process
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3", job_name=command):
            cfg = compose(command, overrides=implied_overrides(overrides),
                          return_hydra_config=return_hydra_config)
    except Exception as err:  # Hydra's ConfigCompositionException, OverrideParseException, ...
        raise composition_error(err) from None
    if check:
        check_config(command, cfg)
    return cfg
