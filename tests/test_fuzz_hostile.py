"""Generated hostile inputs (issue #21, "Done when"): run folders, model folders, records files, overrides.

Every case goes through GenoArmory's own entry points in-process (a subprocess per case would cost ~10 s
of imports each on 2 cores) and must show
- 0 tracebacks: the entry point returns, or raises the one-line UserError (through the CLI: exit 2 and
  exactly one `genoarmory: error:` line);
- 0 executed payloads: every `_target_`, pickle, shipped model file and YAML tag would create a canary
  file in CANARIES if it ever ran; the folder stays empty;
- 0 leaked environment variables: a canary variable is set and referenced (`${oc.env:...}`) by the
  hostile inputs; its value appears in no message and no file any case wrote;
- 0 results lost: what the case was given is unchanged byte for byte, except the one write the issue
  allows (a resume cuts a torn last line, and keeps every complete record).
Hypothesis draws the cases (derandomized: the same cases every run, no example database). The counts
are printed at the end of the module (`pytest -s tests/test_fuzz_hostile.py`) and written as JSON to
$GENOARMORY_FUZZ_COUNTS when that is set.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import pickle
import shutil
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from genoarmory.errors import UserError

CANARY_VAR = "GENOARMORY_FUZZ_CANARY"
CANARY = f"canary-{uuid.uuid4().hex}"  # the secret a leak would print
COUNTS: Counter = Counter()
SMALL = ["dataset.limit=6", "dataset.loader.n_train=20", "dataset.loader.n_dev=20", "progress=false", "device=cpu"]


def fuzz(n: int):
    # no shrinking: a failing case is reported as drawn (derandomized, so it comes back the same every run)
    scale = float(os.environ.get("GENOARMORY_FUZZ_SCALE", "1"))
    return settings(max_examples=max(1, int(n * scale)), deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def report():
    os.environ[CANARY_VAR] = CANARY
    COUNTS.clear()
    yield
    os.environ.pop(CANARY_VAR, None)
    keys = ("cases", "tracebacks", "payloads_ran", "leaks", "results_lost")
    summary = {k: sum(v for (_, kind), v in COUNTS.items() if kind == k) for k in keys}
    summary["by_kind"] = {kind: COUNTS[(kind, "cases")] for kind in sorted({k for k, _ in COUNTS})}
    print("\nfuzz-and-fault counts:", json.dumps(summary))
    if os.environ.get("GENOARMORY_FUZZ_COUNTS"):
        Path(os.environ["GENOARMORY_FUZZ_COUNTS"]).write_text(json.dumps(summary, indent=2) + "\n")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """Case folders in memory where the system has a tmpfs (/dev/shm): thousands of small files made and
    removed cost a disk-backed folder seconds on a busy machine."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="genoarmory-fuzz-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def canaries(scratch) -> Path:
    folder = scratch / "canaries"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def base_run(quick_tiny_model, scratch) -> Path:
    run = scratch / "base-run"
    assert run_cli("attack", "attack=random", f"model.path={quick_tiny_model / 'model'}", f"run_dir={run}", *SMALL) == 0
    return run


def case_folder(scratch: Path, kind: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=scratch))


def files_of(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(folder))] = p.read_bytes()
    return out


class Case:
    """One generated case: runs `fn`, then counts and asserts the four properties."""

    def __init__(self, kind: str, folder: Path, canaries: Path):
        self.kind, self.folder, self.canaries = kind, folder, canaries
        self.messages: list[str] = []

    def run(self, fn):
        out, err = io.StringIO(), io.StringIO()
        result, error = None, None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                result = fn()
            except UserError as e:
                error = e
            except Exception as e:  # noqa: BLE001  (counted: any other exception is a traceback)
                COUNTS[(self.kind, "tracebacks")] += 1
                raise AssertionError(f"{self.kind}: traceback {type(e).__name__}: {e}") from e
        self.messages += [out.getvalue(), err.getvalue(), str(error or "")]
        return result, error

    def finish(self, lost: bool = False) -> None:
        COUNTS[(self.kind, "cases")] += 1
        ran = sorted(p.name for p in self.canaries.iterdir())
        leaked = [m for m in self.messages if CANARY in m]
        leaked += [n for n, data in files_of(self.folder).items() if CANARY.encode() in data]
        COUNTS[(self.kind, "payloads_ran")] += bool(ran)
        COUNTS[(self.kind, "leaks")] += bool(leaked)
        COUNTS[(self.kind, "results_lost")] += bool(lost)
        assert not ran, f"{self.kind}: payload ran: {ran}"
        assert not leaked, f"{self.kind}: the canary leaked into {leaked}"
        assert not lost, f"{self.kind}: a result was lost or changed"
        shutil.rmtree(self.folder, ignore_errors=True)


# ---- hostile values ------------------------------------------------------------------------------------

def payloads(marker: Path) -> list:
    """What a hostile config could hold: code to run, resolvers to call."""
    m = str(marker)
    return [
        {"_target_": "subprocess.getoutput", "cmd": f"touch {m}"},
        {"_target_": "os.system", "command": f"touch {m}"},
        {"_target_": "builtins.exec", "_args_": [f"open({m!r}, 'w')"]},
        {"_target_": "pathlib.Path.touch", "self": m},
        {"_target_": "genoarmory.data.motif.make_motif_task", "name": {"_target_": "os.system", "command": f"touch {m}"}},
        {"_target_": "os.system", "_partial_": True, "command": f"touch {m}"},
        "${oc.env:" + CANARY_VAR + "}",
        "${oc.env:" + CANARY_VAR + ",default}",
        "prefix-${oc.env:" + CANARY_VAR + "}",
        "${ga_sweep_dir:${oc.env:" + CANARY_VAR + "},x}",
        "${oc.decode:'" + '{"a": 1}' + "'}",
        "${now:%Y}",
        "${eval:__import__('os').system('touch " + m + "')}",
        "${hydra:runtime.cwd}",
    ]


def set_path(tree: dict, path: list[str], value) -> None:
    node = tree
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


CONFIG_PATHS = [["dataset", "loader"], ["dataset", "loader", "_target_"], ["model", "revision"], ["model", "name"],
                ["attack", "recipe"], ["attack", "transformation"], ["attack", "transformation", "_target_"],
                ["defense", "trainer"], ["model"], ["run_dir"], ["data_root"], ["attack", "candidate_filter"],
                ["extra", "deep", "deeper", "_target_"], ["dataset", "name"], ["hydra"], ["model", "trust_remote_code"],
                ["attack", "searches", "greedy", "_target_"], ["seed"], ["dataset", "loader", "motifs"]]


# ---- 1. hostile run folders -----------------------------------------------------------------------------

def hostile_config_text(config: dict, marker: Path, path, payload, style: str) -> str:
    """config.yaml as text: the payload placed at `path`, dumped plainly, or written with a YAML tag that
    would run code under an unsafe loader, or as an alias bomb."""
    if style == "tag":
        return dump(config) + f"evil: !!python/object/apply:os.system ['touch {marker}']\n"
    if style == "bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
        return dump(config) + "\n".join(lines) + "\n"
    config = copy.deepcopy(config)
    set_path(config, path, payload)
    return dump(config)


def dump(config: dict) -> str:
    return yaml.dump(config, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))


@fuzz(350)
@given(data=st.data())
def test_hostile_run_folders(base_run, scratch, canaries, data):
    from genoarmory.genoadv.runs import read_run
    from genoarmory.results import Run

    folder = case_folder(scratch, "run")
    shutil.copytree(base_run, folder / "run")
    run = folder / "run"
    marker = canaries / "run-payload"
    config = yaml.load((run / "config.yaml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    path = data.draw(st.sampled_from(CONFIG_PATHS))
    payload = data.draw(st.sampled_from(payloads(marker)))
    style = data.draw(st.sampled_from(["plain"] * 8 + ["tag", "bomb"]))
    where = data.draw(st.sampled_from(["config.yaml", "summary.json", "both"]))
    if where in ("config.yaml", "both"):
        (run / "config.yaml").write_text(hostile_config_text(config, marker, path, payload, style))
    if where in ("summary.json", "both"):
        summary = json.loads((run / "summary.json").read_text())
        set_path(summary["config"], path, payload)
        summary["config"]["dataset"]["shard"] = "0/1"  # so merge reads it as a shard
        if where == "summary.json":
            (run / "config.yaml").unlink()  # Run.config falls back to the summary's config
        (run / "summary.json").write_text(json.dumps(summary))
    before = files_of(run)
    case = Case("run folders", folder, canaries)
    # the CLI case composes conf/genoadv.yaml (~0.3 s): a few of them, the rest straight at the readers
    entry = data.draw(st.sampled_from(["Run.config", "genoadv read_run", "merge"] * 12 + ["genoadv build"]))
    if entry == "Run.config":
        _, error = case.run(lambda: Run(run).config)
    elif entry == "genoadv read_run":
        _, error = case.run(lambda: read_run(run))
    elif entry == "merge":
        from genoarmory.commands.merge import Shard

        _, error = case.run(lambda: Shard(run))
    else:
        code, error = case.run(lambda: run_cli("genoadv", "build", f"runs=[{run}]", f"run_dir={folder / 'out'}"))
        stderr = case.messages[1]
        assert code == 2 and stderr.count("\n") == 1 and stderr.startswith("genoarmory: error:"), stderr
        assert not (folder / "out").exists()
        error = error or stderr
    # every case holds a payload where GenoArmory reads it: each must be refused
    # where the entry does not read the file holding the payload it stops for another reason
    hidden = ((where == "summary.json" and entry in ("genoadv read_run", "genoadv build"))  # they need config.yaml
              or (where == "config.yaml" and entry == "merge"))  # merge reads summary.json only
    assert error is not None, f"accepted: {entry} {where} {path} {payload!r} {style}"
    assert hidden or "names code" in str(error) or "interpolation" in str(error) or "too large" in str(error) \
        or "YAML" in str(error) or "mapping" in str(error), str(error)
    case.finish(lost=files_of(run) != before)


@fuzz(60)
@given(data=st.data())
def test_hostile_train_metrics_never_enable_code(quick_tiny_model, scratch, canaries, data):
    """genoadv verify --model DIR reads DIR's metrics.json: trust_remote_code / allow_pickle / payloads there
    change nothing (item 2)."""
    from genoarmory.genoadv.verify import transfer_model_config

    folder = case_folder(scratch, "train")
    (folder / "train" / "model").mkdir(parents=True)
    shutil.copy(quick_tiny_model / "model" / "config.json", folder / "train" / "model" / "config.json")
    metrics = json.loads((quick_tiny_model / "metrics.json").read_text())
    model = metrics["config"]["model"]
    model.update(trust_remote_code=data.draw(st.sampled_from([True, "true", 1, "yes"])),
                 allow_pickle=data.draw(st.sampled_from([True, "true", 1])))
    if data.draw(st.booleans()):
        set_path(model, data.draw(st.sampled_from([["name"], ["revision"], ["hub_id"], ["loader"], ["x", "_target_"]])),
                 data.draw(st.sampled_from(payloads(canaries / "metrics-payload"))))
    (folder / "train" / "metrics.json").write_text(json.dumps(metrics))
    before = files_of(folder)
    case = Case("run folders", folder, canaries)
    cfg, error = case.run(lambda: transfer_model_config(folder / "train", None))
    if error is None:
        assert cfg["trust_remote_code"] is False and cfg["allow_pickle"] is False
        assert "${" not in json.dumps(cfg)
    case.finish(lost=files_of(folder) != before)


# ---- 2. hostile model folders ---------------------------------------------------------------------------

class RunsCode:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def mutate_model(folder: Path, marker: Path, data) -> str:
    """One hostile change to a model folder; returns its name."""
    kind = data.draw(st.sampled_from(["config-size", "config-junk", "labels", "auto_map", "tok-auto_map", "st-truncate",
                                      "st-flip", "st-garbage", "pickle", "tok-truncate", "tok-junk", "tok-config",
                                      "shape", "missing-tensor", "stray-code"]))
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    code = (f"import os\nos.system('touch {marker}')\nfrom transformers import BertForSequenceClassification\n"
            "class Shipped(BertForSequenceClassification):\n    pass\n")
    if kind == "config-size":
        key = data.draw(st.sampled_from(["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                                         "vocab_size", "max_position_embeddings", "type_vocab_size", "pad_token_id"]))
        config[key] = data.draw(st.one_of(st.integers(-10, 300), st.sampled_from(["abc", None, 1.5, [], True])))
    elif kind == "config-junk":
        config_path.write_bytes(data.draw(st.sampled_from([b"", b"[1, 2]", b'"text"', b"{", b"\xff\xfe", b"null",
                                                           b"[" * 50_000 + b"]" * 50_000, b'{"model_type": 5}'])))
        return kind
    elif kind == "labels":
        n = data.draw(st.integers(1, 5))
        config["id2label"] = {str(i): f"l{i}" for i in range(n)}
        config["label2id"] = {f"l{i}": i for i in range(n)}
    elif kind == "auto_map":
        config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_shipped.Shipped",
                              "AutoConfig": "modeling_shipped.Shipped"}
        (folder / "modeling_shipped.py").write_text(code)
    elif kind == "tok-auto_map":
        tok = json.loads((folder / "tokenizer_config.json").read_text())
        tok["auto_map"] = {"AutoTokenizer": ["tokenization_shipped.Tok", None]}
        (folder / "tokenizer_config.json").write_text(json.dumps(tok))
        (folder / "tokenization_shipped.py").write_text(f"import os\nos.system('touch {marker}')\n")
    elif kind == "stray-code":  # code files beside ordinary weights, named by nothing: never imported
        (folder / "modeling_bert.py").write_text(code)
        (folder / "__init__.py").write_text(code)
    elif kind.startswith("st-") and (folder / "model.safetensors").is_file():
        weights = folder / "model.safetensors"
        raw = bytearray(weights.read_bytes())
        if kind == "st-truncate":
            raw = raw[:data.draw(st.integers(0, max(0, len(raw) - 1)))]
        elif kind == "st-flip":
            for _ in range(data.draw(st.integers(1, 8))):
                if raw:
                    raw[data.draw(st.integers(0, min(len(raw) - 1, 4096)))] ^= data.draw(st.integers(1, 255))
        else:
            raw = bytearray(data.draw(st.binary(min_size=0, max_size=256)))
        weights.write_bytes(bytes(raw))
    elif kind == "pickle":
        (folder / "model.safetensors").unlink(missing_ok=True)
        with open(folder / "pytorch_model.bin", "wb") as f:
            pickle.dump({"payload": RunsCode(str(marker))}, f)
    elif kind == "tok-truncate":
        text = (folder / "tokenizer.json").read_bytes()
        (folder / "tokenizer.json").write_bytes(text[:data.draw(st.integers(0, max(0, len(text) - 1)))])
    elif kind == "tok-junk":
        (folder / "tokenizer.json").write_bytes(data.draw(st.sampled_from(
            [b"[]", b"{}", b'{"model": 5}', b"null", b"\x00\x01", b'{"version": "1.0", "model": {"type": "BPE"}}'])))
    elif kind == "tok-config":
        (folder / "tokenizer_config.json").write_text(data.draw(st.sampled_from(
            ['{"tokenizer_class": "os.system"}', "[]", '{"model_max_length": -5}', '{"tokenizer_class": 5}',
             '{"tokenizer_class": "BertTokenizerFast", "do_lower_case": "x"}'])))
    elif kind in ("shape", "missing-tensor") and (folder / "model.safetensors").is_file():
        import torch
        from safetensors.torch import load_file, save_file

        try:
            weights = load_file(folder / "model.safetensors")
        except Exception:  # noqa: BLE001  an earlier change broke the file already
            return kind
        name = data.draw(st.sampled_from(sorted(weights)))
        if kind == "shape":
            weights[name] = torch.zeros(*data.draw(st.lists(st.integers(1, 9), min_size=1, max_size=3)))
        else:
            del weights[name]
        save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    config_path.write_text(json.dumps(config))
    return kind


@fuzz(120)
@given(data=st.data())
def test_hostile_model_folders(quick_tiny_model, scratch, canaries, data):
    from genoarmory.genoadv.verify import build_victim
    from omegaconf import OmegaConf

    from genoarmory.config import CONF_DIR

    folder = case_folder(scratch, "model")
    model = folder / "model"
    shutil.copytree(quick_tiny_model / "model", model)
    marker = canaries / "model-payload"
    kinds = [mutate_model(model, marker, data) for _ in range(data.draw(st.integers(1, 2)))]
    before = files_of(folder)
    cfg = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / "tiny-6mer.yaml"), resolve=True)
    cfg.update(path=str(model), allow_pickle=data.draw(st.booleans()))  # allow_pickle: weights-only unpickling
    case = Case("model folders", folder, canaries)

    def load_and_score():
        victim = build_victim(cfg, 2, "cpu", 4, folder / "cache", True)
        return victim.predict_proba(["ACGTACGTACGTTATAAAAGGCC" * 3, "A" * 40], use_cache=False)

    probs, error = case.run(load_and_score)
    if error is None:
        assert probs.shape == (2, 2), kinds
    else:
        assert str(model) in str(error), str(error)
    case.finish(lost=files_of(folder) != before)


# ---- 3. hostile records files ---------------------------------------------------------------------------

def record_lines(base_run: Path) -> list[dict]:
    return [json.loads(x) for x in (base_run / "records.jsonl").read_text().splitlines()]


def hostile_line(records: list[dict], data) -> bytes:
    kind = data.draw(st.sampled_from(["valid"] * 6 + ["edit", "drop", "not-object", "garbage", "nan", "deep",
                                                       "success", "blank"]))
    x = dict(data.draw(st.sampled_from(records)))
    if kind == "edit":
        key = data.draw(st.sampled_from(sorted(x)))
        x[key] = data.draw(st.sampled_from([None, -5, 7, "lots", [], {}, 1e308, True, "", "x" * 1000, -1.5,
                                            "0123456789abcdef", [[0, "A", "C"]], "success"]))
    elif kind == "drop":
        x.pop(data.draw(st.sampled_from(sorted(x))))
    elif kind == "not-object":
        return data.draw(st.sampled_from([b"[]", b"null", b"5", b'"record"', b"true", b"[{}]"]))
    elif kind == "garbage":
        return data.draw(st.binary(max_size=60)).replace(b"\n", b"")
    elif kind == "nan":
        return json.dumps(x).replace('"seconds": ' + json.dumps(x["seconds"]), '"seconds": NaN').encode()
    elif kind == "deep":
        return b"[" * 100_000 + b"]" * 100_000
    elif kind == "success":  # hand-edited: success without a real adversarial sequence, or with random edits
        x.update(status="success", adv_pred=1 - x["label"], adv_sequence=data.draw(st.sampled_from([x["sequence"], "ACGT"])),
                 edits=data.draw(st.sampled_from([[], [[0, "A", "C"]], [[10**6, "A", "C"]]])))
    elif kind == "blank":
        return b"   "
    return json.dumps(x).encode()


@fuzz(500)
@given(data=st.data())
def test_hostile_records_files(base_run, scratch, canaries, data):
    from genoarmory.results import RecordWriter, Run, read_records

    records = record_lines(base_run)
    config_hash = records[0]["config_hash"]
    allowed = [r["id"] for r in records]
    folder = case_folder(scratch, "records")
    run = folder / "run"
    run.mkdir()
    path = run / "records.jsonl"
    shape = data.draw(st.sampled_from(["file"] * 12 + ["directory", "symlink", "dangling-symlink", "fifo"]))
    lines = [hostile_line(records, data) for _ in range(data.draw(st.integers(0, 8)))]
    if lines and data.draw(st.integers(0, 40)) == 0:  # a line over the 8 MiB cap (rarely: 8 MiB per case)
        lines.insert(data.draw(st.integers(0, len(lines))), b'{"id": "' + b"A" * ((8 << 20) + 1) + b'"}')
    end = data.draw(st.sampled_from([b"\n"] * 4 + [b"\r\n", b""]))  # b"": the last line is torn
    raw = b"".join(line + b"\n" for line in lines[:-1]) + (lines[-1] + end if lines else b"")
    outside = folder / "outside.jsonl"
    if shape == "file":
        path.write_bytes(raw)
    elif shape == "directory":
        path.mkdir()
    elif shape == "symlink":
        outside.write_bytes(raw)
        path.symlink_to(outside)
    elif shape == "dangling-symlink":
        path.symlink_to(folder / "nowhere")
    else:
        os.mkfifo(path)
    before = files_of(folder)
    case = Case("records files", folder, canaries)
    entry = data.draw(st.sampled_from(["resume", "read_records", "Run.records"]))
    if entry == "resume":
        def resume():
            with RecordWriter(run, config_hash, allowed, 2) as w:
                return [r.id for r in w.records]
        got, error = case.run(resume)
    elif entry == "read_records":
        got, error = case.run(lambda: [r.id for r in read_records(path, 2)])
    else:
        got, error = case.run(lambda: [r.id for r in Run(run).records(2)])
    after = files_of(folder)
    lost = False
    if shape != "file":
        assert error is not None, shape
        lost = after != before
    elif error is not None:
        lost = after != before  # an error changes nothing
    else:
        segments = raw.split(b"\n")
        complete = [x for x in segments[:-1] if x.strip()]  # lines with their line end
        # every complete record line became a record: none dropped, none added
        lost = len(got) != len(complete) or len(set(got)) != len(got)
        kept = after.get("run/records.jsonl", b"")
        if entry == "resume":
            lost |= kept != raw[:len(raw) - len(segments[-1])]  # only an unterminated tail is cut
        else:
            lost |= kept != raw
    case.finish(lost=lost)


# ---- 4. hostile overrides -------------------------------------------------------------------------------

OVERRIDE_KEYS = ["attack.max_perturb_ratio", "attack.query_budget", "dataset.limit", "seed", "device", "batch_size",
                 "dataset.seed", "dataset.shard", "dataset.split", "model.name", "dataset.name", "attack.name",
                 "model.max_length", "model.revision", "model.trust_remote_code", "offline", "progress", "overwrite",
                 "attack.k", "attack.protected", "attack.max_gc_shift", "attack.target_label", "train.lr",
                 "train.epochs", "model.arch.hidden_size", "dataset.loader.length", "dataset.loader._target_",
                 "attack.transformation._target_", "attack.recipe", "attack.bogus", "model.bogus", "dataset.loader.bogus",
                 "sequence.policy", "cache_dir", "run_dir", "attack.preserve", "model.quantize"]
HOSTILE_VALUES = [-1, 0, -5, "abc", "ten", 1e308, float("nan"), float("inf"), "nan", "${oc.env:" + CANARY_VAR + "}",
                  "${oc.env:" + CANARY_VAR + "_UNSET}", "${oc.env:HOME}", "../../x", "/abs/path", [], {}, None, True,
                  "os.system", "subprocess.getoutput", "x" * 500, "tpu", "cuda:x", "4/4", "-1/2", [[5, 2]], "${now:%Y}",
                  "${ga_sweep_dir:" + "${oc.env:" + CANARY_VAR + "}" + ",x}", "a\x00b", 2**63, -(2**63), 1.5, "1e-3"]


def accepted_is_sound(cfg) -> None:
    """What an accepted config must satisfy, checked here without the schema (the silent acceptances of
    item 12 and the names of item 7)."""
    import re

    assert cfg.dataset.limit is None or (isinstance(cfg.dataset.limit, int) and cfg.dataset.limit > 0)
    assert cfg.attack.query_budget is None or (isinstance(cfg.attack.query_budget, int) and cfg.attack.query_budget > 0)
    assert 0 < cfg.attack.max_perturb_ratio <= 1
    assert cfg.batch_size == "auto" or cfg.batch_size > 0
    assert isinstance(cfg.seed, int) and cfg.seed >= 0
    for name in (cfg.model.name, cfg.attack.name, *str(cfg.dataset.name).split("/")):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+=@-]*", str(name)) and name not in (".", ".."), name
    assert "bogus" not in cfg.attack and "bogus" not in cfg.model


@pytest.fixture(scope="module")
def base_configs():
    from genoarmory.testing import compose

    from omegaconf import OmegaConf

    # plain data, unresolved: a fresh DictConfig per case from it is ~20x cheaper than deepcopy of one
    return {command: OmegaConf.to_container(compose([], command), resolve=False) for command in ("attack", "train", "defend")}


@fuzz(250)
@given(data=st.data())
def test_hostile_overrides_through_the_schema(base_configs, scratch, canaries, data):
    from omegaconf import OmegaConf

    from genoarmory.config_check import check_config

    command = data.draw(st.sampled_from(["attack", "attack", "train", "defend"]))
    cfg = OmegaConf.create(base_configs[command])
    changes = data.draw(st.lists(st.tuples(st.sampled_from(OVERRIDE_KEYS), st.sampled_from(HOSTILE_VALUES)),
                                 min_size=1, max_size=3))
    folder = case_folder(scratch, "override")
    case = Case("overrides", folder, canaries)
    applied = True
    try:
        for key, value in changes:
            OmegaConf.update(cfg, key, value, merge=False, force_add=True)
    except Exception:  # noqa: BLE001  OmegaConf refuses the value itself (Hydra's parser would too)
        applied = False
    if applied:
        _, error = case.run(lambda: check_config(command, cfg))
        if error is None and command != "train":
            accepted_is_sound(cfg)
    case.finish()


CLI_OVERRIDES = [  # item 11 and 12, through the real command line (Hydra's parser and all)
    ["attack.max_perturb_ratio=abc"], ["dataset.limit=-5"], ["dataset.limit=ten"], ["seed=abc"], ["device=tpu"],
    ["batch_size=0"], ["attack.query_budget=-1"], ["+attack.bogus=1"], ["dataset.loader._target_=os.system"],
    ["model.name=../../../../elsewhere/x"], ["model.name=${oc.env:HOME}"], ["model.name=${oc.env:" + CANARY_VAR + "}", "seed=-1"],
    ["model.revision=${oc.env:" + CANARY_VAR + "}", "seed=-1"], ["seed=${oc.env:" + CANARY_VAR + "}"],
    ["attack.transformation._target_=subprocess.getoutput"], ["overwrite=maybe"], ["attack.recipe={}"],
    ["dataset.loader=[1]"], ["attack.transformation=x"],
]


@pytest.mark.parametrize("overrides", CLI_OVERRIDES, ids=[" ".join(o) for o in CLI_OVERRIDES])
def test_hostile_overrides_on_the_command_line(overrides, scratch, canaries):
    folder = case_folder(scratch, "cli")
    case = Case("overrides", folder, canaries)
    code, _ = case.run(lambda: run_cli("attack", *overrides, f"run_dir={folder / 'run'}",
                                       f"cache_dir={folder / 'cache'}", "progress=false"))
    stderr = case.messages[1]
    assert code == 2 and stderr.count("\n") == 1 and stderr.startswith("genoarmory: error: "), stderr
    assert list(folder.iterdir()) == []  # no config.yaml, no empty records.jsonl, no cache entry
    case.finish()
