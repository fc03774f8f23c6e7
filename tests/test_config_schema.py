"""The composed config's schema (genoarmory/config_schema.py): every bad override is one line naming the
key and what it allows, exit code 2, and nothing written; keys the groups define still work; every
`_target_` a config can name stays one of GenoArmory's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from genoarmory.config import CONF_DIR, load_saved_config, own_partial
from genoarmory.config_check import schema_errors
from genoarmory.config_compose import compose_checked
from genoarmory.errors import UserError

BAD = [  # (override(s), the key the error must name, what it must say is allowed)
    (["attack.max_perturb_ratio=abc"], "attack.max_perturb_ratio", "a number in (0, 1]"),
    (["dataset.limit=-5"], "dataset.limit", "null or a positive integer"),
    (["dataset.limit=ten"], "dataset.limit", "null or a positive integer"),
    (["seed=abc"], "seed", "an integer >= 0"),
    (["device=tpu"], "device", "auto | cpu | cuda | cuda:N | mps"),
    (["batch_size=0"], "batch_size", "auto or a positive integer"),
    (["+attack.bogus=1"], "attack.bogus", "unknown key (known keys: name, recipe, max_perturb_ratio"),
    (["attack.query_budget=-1"], "attack.query_budget", "null or a positive integer"),
    (["offline=maybe"], "offline", "true or false"),
    (["dataset.shard=4/4"], "dataset.shard", "0 <= i < n"),
    (["attack.protected=[[5,2]]"], "attack.protected", "list of [start, end) spans"),
    (["attack=pgd", "attack.norm=l3"], "attack.norm", "one of l2 | linf"),
    (["+model.arch.dropout=0.1"], "model.arch.dropout", "known keys: hidden_size"),
    (["+dataset.loader.bogus=2"], "dataset.loader.bogus", "make_motif_task takes: name, motifs"),
    (["dataset.loader.length=abc"], "dataset.loader.length", "an integer"),
    (["+attack.transformation.bogus=1"], "attack.transformation.bogus", "mlm_proposals takes: k"),
    (["dataset.loader._target_=os.system"], "dataset.loader._target_", "GenoArmory's own loaders"),
    (["attack.transformation._target_=os.system"], "attack.transformation._target_", "GenoArmory's own transformations"),
    (["attack=textfooler", "attack.candidate_filter._target_=subprocess.getoutput"], "attack.candidate_filter._target_",
     "GenoArmory's own filters"),
    (["attack=textattack", "attack.transformations.mlm._target_=os.system"], "attack.transformations.mlm._target_",
     "GenoArmory's own transformations"),
    (["attack=textattack", "attack.searches.greedy._target_=os.system"], "attack.searches.greedy._target_",
     "GenoArmory's own searchs"),
    (["attack.recipe=os.system"], "attack.recipe", "GenoArmory's own recipes"),
    (["attack=bogus"], "attack", "(attack options: bertattack, fimba, pgd, random, textattack, textfooler)"),
    (["model.bogus=1"], "model.bogus", "no such key here"),
    (["dataset.limit=[1"], "dataset.limit=[1", "override grammar"),
]


@pytest.mark.parametrize("overrides, key, allowed", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_a_bad_override_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, overrides, key, allowed):
    run_dir = tmp_path / "run"
    assert run_cli("attack", *overrides, f"run_dir={run_dir}", "progress=false") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genoarmory: error: "), err
    assert key in err and allowed in err, err
    assert not run_dir.exists() and list(tmp_path.iterdir()) == []  # no run folder, no config.yaml, no records


def test_a_sweep_with_one_bad_value_is_refused_before_any_job(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    assert run_cli("attack", "-m", "attack=random", "dataset.limit=3,-5", f"run_dir={sweep}", "progress=false") == 2
    err = capsys.readouterr().err
    assert err == "genoarmory: error: dataset.limit=-5: expected null or a positive integer\n"
    assert not sweep.exists()


@pytest.mark.parametrize("command, overrides", [
    ("defend", ["defense=at", "defense.trainer=os.system"]),
    ("defend", ["defense=freelb", "defense.adv_steps=0"]),
    ("train", ["train.lr=-1"]),
    ("train", ["attack=random"]),  # train composes no attack
    ("attack", ["defense=at"]),    # attack composes no defense group: `defend` trains defenses
])
def test_every_command_checks_its_own_config(tmp_path, capsys, command, overrides):
    assert run_cli(command, *overrides, f"run_dir={tmp_path / 'run'}") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genoarmory: error: ")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command, overrides, check", [
    ("attack", ["attack.k=10"], lambda c: c.attack.k == 10 and c.attack.transformation.k == 10),
    ("attack", ["+attack.parallel=8"], lambda c: c.attack.parallel == 8),  # read by the engine for every attack
    ("attack", ["attack=fimba", "attack.parallel=auto", "attack.units=token"], lambda c: c.attack.units == "token"),
    ("attack", ["attack=textattack", "attack.search=beam", "attack.searches.beam.beam_width=4"],
     lambda c: c.attack.name == "textattack-beam" and c.attack.searches.beam.beam_width == 4),
    ("attack", ["dataset.loader.n_train=20", "dataset.limit=null"], lambda c: c.dataset.loader.n_train == 20),
    ("attack", ["dataset=fasta", "dataset.path=x.fa"], lambda c: c.dataset.loader.path == "x.fa"),
    ("attack", ["dataset=gue/tf/0", "dataset.shard=1/4"], lambda c: c.dataset.shard == "1/4"),
    ("attack", ["model=tiny-bpe", "model.bpe_vocab_size=128", "model.arch.hidden_size=32"],
     lambda c: c.model.arch.hidden_size == 32),
    ("attack", ["model=dnabert2", "model.revision=1234567"], lambda c: c.model.revision == "1234567"),  # a string
    ("attack", ["device=cuda:1", "batch_size=16", "seed=0"], lambda c: c.device == "cuda:1" and c.batch_size == 16),
    ("attack", ["attack.protected=[[0,5]]", "attack.query_budget=100"], lambda c: list(c.attack.protected[0]) == [0, 5]),
    ("defend", ["defense=at", "defense.regenerate_every=1", "defense.train.epochs=1"],
     lambda c: c.defense.regenerate_every == 1),
    ("defend", ["defense=adfar", "defense.threshold=0.9"], lambda c: c.defense.threshold == 0.9),
    ("train", ["train.epochs=1", "model=tiny-char"], lambda c: c.train.epochs == 1),
])
def test_keys_the_groups_define_still_work(command, overrides, check):
    assert check(compose_checked(command, overrides))


@pytest.mark.parametrize("env, override, expected", [
    (None, [], False), ("1", [], True), ("0", [], False), (None, ["offline=yes"], True), ("1", ["offline=no"], False),
    (None, ["offline=true"], True),
])
def test_offline_is_a_real_bool_and_hf_hub_offline_still_works(monkeypatch, env, override, expected):
    if env is None:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("HF_HUB_OFFLINE", env)
    assert compose_checked("attack", override).offline is expected


def test_every_command_config_and_option_passes_the_schema():
    for command in ("attack", "train", "defend", "genoadv", "leaderboard"):
        compose_checked(command, [])
    for group, command in (("model", "attack"), ("dataset", "attack"), ("attack", "attack"), ("defense", "defend")):
        for path in sorted((CONF_DIR / group).rglob("[!_]*.yaml")):
            compose_checked(command, [f"{group}={path.relative_to(CONF_DIR / group).with_suffix('')}"])


def test_the_schema_reports_every_problem_it_finds():
    from genoarmory.config import plain_config

    config = plain_config(compose_checked("attack", []))
    config["seed"], config["attack"]["k"] = -1, "many"
    errors, _ = schema_errors("attack", config)
    assert errors == ["seed=-1: expected an integer >= 0", "attack.k='many': expected a positive integer"]


def test_own_partial_names_only_genoarmory_parts():
    part = own_partial({"_target_": "genoarmory.attacks.recipes.parts.base_substitution", "_partial_": True},
                       "transformation")
    assert type(part(None, None)).__name__ == "BaseSubstitution"
    for node, role in (({"_target_": "os.system", "_partial_": True, "command": "touch PWNED"}, "transformation"),
                       ({"_target_": "genoarmory.attacks.recipes.parts.base_substitution", "_partial_": True}, "filter")):
        with pytest.raises(UserError, match="not one of GenoArmory's own"):
            own_partial(node, role)
    assert not Path("PWNED").exists()


@pytest.mark.parametrize("key", ["transformation", "candidate_filter"])
def test_a_saved_config_naming_foreign_code_in_a_part_is_refused(tmp_path, key):
    config = {"attack": {"name": "textfooler", "recipe": "genoarmory.attacks.recipes.textfooler.build",
                         key: {"_target_": "subprocess.getoutput", "_partial_": True, "cmd": "touch PWNED"}}}
    (tmp_path / "config.yaml").write_text(json.dumps(config))
    with pytest.raises(UserError, match=f"attack.{key}._target_='subprocess.getoutput' names code"):
        load_saved_config(tmp_path / "config.yaml")


def test_paper_grid_is_the_papers_model_task_attack_sweep(capsys):
    """experiment=paper-grid sweeps exactly the (model, task, attack) triples the paper reports (the committed
    reported entries, read independently of the preset), under the leaderboard's protocol."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from genoarmory.leaderboard.cli import PACKAGED_BOARD

    cfg = compose_checked("attack", ["experiment=paper-grid"], return_hydra_config=True)
    axes = {o.get_key_element(): list(o.sweep_string_iterator()) for o in OverridesParser.create().parse_overrides(
        [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()])}
    hub = {m: compose_checked("attack", ["experiment=paper-grid", f"model={m}"]).model.hub_id for m in axes["model"]}
    grid = {(hub[m], d, a) for m in axes["model"] for d in axes["dataset"] for a in axes["attack"]}
    reported = set()
    for path in (PACKAGED_BOARD / "data" / "entries" / "reported").rglob("*.json"):
        entry = json.loads(path.read_text())
        if entry["defense"] == "none":
            reported.add((entry["model_hub_id"], entry["task"], entry["attack"]))
    assert len(grid) == 520 and grid == reported
    assert cfg.dataset.limit == 100 and cfg.model.use_finetuned is True and cfg.model.trust_remote_code is False
    protocol = json.loads((PACKAGED_BOARD / "data" / "protocol.json").read_text())["require"]
    assert protocol["dataset.limit"]["value"] == cfg.dataset.limit
    # a sweep preset is refused without -m, in one line
    assert run_cli("attack", "experiment=paper-grid") == 2
    assert "run it with -m" in capsys.readouterr().err


def test_the_schema_allows_exactly_what_the_code_reads():
    """The schema's choices are the code's own lists (a new mode or scheme added there must be added here)."""
    import typing

    from genoarmory.config_schema import ATTACKS, Threat
    from genoarmory.data.oracles.check import MODES
    from genoarmory.models.quantize import SCHEMES
    from genoarmory.sequence import POLICIES

    cfg = compose_checked("attack", [])
    for mode in MODES:
        compose_checked("attack", [f"attack.preserve={mode}"])
    for scheme in SCHEMES:
        compose_checked("attack", [f"model.quantize={scheme}"])
    for policy in POLICIES:
        compose_checked("attack", [f"sequence.policy={policy}"])
    with pytest.raises(UserError, match="attack.preserve='never': expected one of auto | oracle | elements | none"):
        compose_checked("attack", ["attack.preserve=never"])
    with pytest.raises(UserError, match="attack.oracle_model='../x'"):
        compose_checked("attack", ["attack.oracle_model=../x"])
    assert set(typing.get_type_hints(Threat, include_extras=True)) <= set(ATTACKS[cfg.attack.recipe].model_fields)
