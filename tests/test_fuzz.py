"""Bad-input fuzzing (hypothesis) of the CSV and FASTA loaders and Victim.predict_proba.

Every case must end in a valid result or the documented UserError — one line, naming the file (and the
line where there is one) — never another exception. Inputs: random bytes, arbitrary Unicode, huge lines,
wrong delimiters, BOMs, CRLF / CR line ends, mixed-case IUPAC codes, quoted fields, bad labels.
`predict_proba` scores any string (characters the tokenizer does not know become its unknown token).
The counts (cases run, distinct errors) are printed at the end of the module (`pytest -s`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from genoarmory.data.csv_tasks import read_labelled_csv
from genoarmory.data.fasta import load_fasta_task
from genoarmory.errors import UserError
from genoarmory.testing import read_json_records
from genoarmory.sequence import POLICIES

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CASES: Counter = Counter()
VALID: Counter = Counter()
ERRORS: dict[str, Counter] = {"csv": Counter(), "fasta": Counter(), "victim": Counter(), "cli": Counter()}


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print(f"\nfuzz cases run: {dict(CASES)}; valid results: {dict(VALID)}; distinct errors: "
          f"{ {k: len(v) for k, v in ERRORS.items()} } (total {len(set().union(*ERRORS.values()))})")
    for kind, errors in ERRORS.items():
        for message, n in errors.most_common():
            print(f"  {kind}: {n:4d} x {message}")


def error_kind(message: str) -> str:
    """The message with its specifics (quoted values, numbers, paths) blanked: one entry per kind of error."""
    message = re.sub(r"^\S+?(:\d+)?: ", "", message)
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+", "_", message)


def expect_valid_or_user_error(kind: str, path: Path, load):
    CASES[kind] += 1
    try:
        result = load()
        VALID[kind] += 1
        return result
    except UserError as err:
        text = str(err)
        assert "\n" not in text and "\r" not in text, text
        assert err.where is None or err.where.startswith(str(path)), text
        ERRORS[kind][error_kind(text)] += 1
        return None


def check_examples(examples, num_labels):
    assert examples, "a loader returned no examples instead of an error"
    assert len({e.id for e in examples}) == len(examples)
    for e in examples:
        assert re.fullmatch("[ACGT]+", e.sequence), e.sequence[:50]
        assert isinstance(e.label, int) and 0 <= e.label < (num_labels or 10**9)


# -- pieces -------------------------------------------------------------------------------------------
dna = st.text(st.sampled_from("ACGTACGTacgt"), min_size=1, max_size=80)
messy = st.text(st.sampled_from("ACGTacgtNnRYSWKMBDHVrysw X0-*.é\t\"'>"), max_size=80)
unicode_text = st.text(max_size=30)
huge = st.integers(131_000, 140_000).map(lambda n: "ACGT" * (n // 4))  # past csv's default field limit
chaos_sequences = st.one_of(dna, dna, messy, messy, unicode_text, huge, st.just(""))
chaos_labels = st.one_of(st.sampled_from(["0", "1"]), st.integers(-1, 3).map(str),
                         st.sampled_from(["", " 1 ", "x", "1.0", "0x1", "１", "1e0"]))
# Valid but untidy: mixed case, IUPAC codes (valid under skip/replace), padded labels.
tidy_sequences = st.text(st.sampled_from("ACGTacgt" * 4 + "NnRYrySWKMBDHV"), min_size=1, max_size=80)
tidy_labels = st.sampled_from(["0", "1", " 1", "0 "])
line_ends = st.sampled_from(["\n", "\r\n", "\r"])
boms = st.sampled_from(["", "\ufeff"])
encodings = st.sampled_from(["utf-8"] * 4 + ["latin-1", "utf-16"])


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@st.composite
def csv_files(draw) -> bytes:
    """Half tidy files that must load (BOM, CRLF/CR, quotes, case, IUPAC), half chaos."""
    chaos = draw(st.booleans())
    if chaos and draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=400))
    headers = ["sequence,label", "label,sequence", "Sequence , LABEL"]
    if chaos:
        headers += ["sequence;label", "seq,label", "sequence\tlabel", "sequence,label,extra", "sequence", ""]
    header = draw(st.sampled_from(headers))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"])) if chaos else ","
    sequences, labels = (chaos_sequences, chaos_labels) if chaos else (tidy_sequences, tidy_labels)
    rows = []
    for _ in range(draw(st.integers(0 if chaos else 1, 6))):
        seq, label = draw(sequences), draw(labels)
        if draw(st.booleans()):
            seq = '"' + seq.replace('"', '""') + '"'
        fields = [label, seq] if header.startswith("label") else [seq, label]
        extra = chaos and draw(st.integers(0, 9)) == 0
        rows.append(delimiter.join(fields + ([draw(labels)] if extra else [])))
    end = draw(line_ends)
    text = draw(boms) + end.join([header, *rows]) + (end if draw(st.booleans()) else "")
    return encode(text, draw(encodings) if chaos else "utf-8")


@st.composite
def fasta_files(draw) -> tuple[bytes, bytes | None]:
    """(FASTA bytes, labels-CSV bytes or None): half tidy files that must load, half chaos."""
    chaos = draw(st.booleans())
    if chaos and draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=400)), None
    sequences, labels = (chaos_sequences, chaos_labels) if chaos else (tidy_sequences, tidy_labels)
    if chaos:
        ids = draw(st.lists(st.one_of(st.sampled_from(["s1", "s2", "chr1:1-100", ""]), st.text(max_size=8)),
                            max_size=5))
    else:
        ids = draw(st.lists(st.sampled_from(["s1", "s2", "s3", "s4", "s5", "chr1:1-100"]), min_size=1,
                            max_size=5, unique=True))
    use_table = draw(st.booleans())
    records, table = [], ["id,label"]
    for rid in ids:
        label = draw(labels)
        header = ">" + rid
        if chaos or not use_table or draw(st.booleans()):  # tidy: a header label, or the table's, or both
            header += draw(st.sampled_from([" label=", "|label=", " LABEL=", "; label="])) + (
                label if chaos else label.strip())  # `label=K` is one token: no space inside
        if draw(st.integers(0, 9)) == 0:
            header += " " + draw(unicode_text if chaos else st.just("soft-masked region"))
        seq = draw(sequences)
        width = draw(st.integers(1, 90))
        body = [seq[i:i + width] for i in range(0, len(seq), width)] or [""]
        if draw(st.integers(0, 5)) == 0:
            junk = ["", "   ", ";comment", ">"] if chaos else ["", "   "]
            body.insert(draw(st.integers(0, len(body))), draw(st.sampled_from(junk)))
        records.append("\n".join([header, *body]))
        if not chaos or draw(st.integers(0, 3)):
            table.append(f"{rid},{draw(labels) if chaos else label}")
    prefix = draw(st.sampled_from(["", "\n\n", "junk before\n", "#comment\n"] if chaos else ["", "\n"]))
    end = draw(line_ends)
    text = draw(boms) + (prefix + "\n".join(records)).replace("\n", end)
    encoding = draw(encodings) if chaos else "utf-8"
    return encode(text, encoding), (encode("\n".join(table), encoding) if use_table else None)


# -- loaders ------------------------------------------------------------------------------------------
@FUZZ
@given(data=csv_files(), policy=st.sampled_from(POLICIES), num_labels=st.sampled_from([None, 2, 3]))
def test_csv_loader_gives_examples_or_one_user_error(tmp_path_factory, data, policy, num_labels):
    path = tmp_path_factory.mktemp("csv") / "test.csv"
    path.write_bytes(data)
    examples = expect_valid_or_user_error("csv", path, lambda: read_labelled_csv(path, "test", policy, num_labels))
    if examples is not None:
        check_examples(examples, num_labels)


@FUZZ
@given(files=fasta_files(), policy=st.sampled_from(POLICIES), num_labels=st.sampled_from([None, 2, 3]))
def test_fasta_loader_gives_examples_or_one_user_error(tmp_path_factory, files, policy, num_labels):
    folder = tmp_path_factory.mktemp("fasta")
    fasta, table = files
    (folder / "seqs.fa").write_bytes(fasta)
    labels = None
    if table is not None:
        (folder / "labels.csv").write_bytes(table)
        labels = str(folder / "labels.csv")
    task = expect_valid_or_user_error("fasta", folder, lambda: load_fasta_task(
        "fasta", str(folder / "seqs.fa"), labels, num_labels, policy=policy))
    if task is not None:
        check_examples(task.split("test"), task.num_labels)


# -- the victim ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def victim(quick_tiny_model):
    from genoarmory.models.encoding import SequenceEncoder
    from genoarmory.models.load import load_classifier
    from genoarmory.models.victim import Victim

    model, tokenizer = load_classifier(quick_tiny_model / "model", 2)
    return Victim(model, SequenceEncoder(tokenizer, "kmer", 64, "error"), "tiny-6mer", "cpu", batch_size=16)


@pytest.fixture(scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


victim_inputs = st.lists(st.one_of(dna, messy, unicode_text, st.just(""),
                                   st.integers(300, 3000).map(lambda n: "ACGTN"[n % 5] * n)), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(batch=victim_inputs, same_length=st.booleans())
def test_predict_proba_scores_any_strings(victim, one_thread, batch, same_length):
    if same_length:  # equal lengths take the vectorised k-mer path
        width = max(len(s) for s in batch)
        batch = [s.ljust(width, "A") for s in batch]
    probs = expect_valid_or_user_error("victim", Path("."), lambda: victim.predict_proba(batch))
    if probs is not None:
        assert probs.shape == (len(batch), 2) and np.isfinite(probs).all()
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)


# -- the whole command: a complete run or nothing ----------------------------------------------------
TRAIN = "sequence,label\n" + "".join(f"{'ACGT' * 10 + 'AC'[i % 2] * 4},{i % 2}\n" for i in range(8))


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=csv_files(), policy=st.sampled_from(POLICIES))
def test_attack_on_a_fuzzed_csv_writes_a_whole_run_or_nothing(tmp_path_factory, quick_tiny_model, one_thread,
                                                              capsys, data, policy):
    root = tmp_path_factory.mktemp("cli")
    (root / "gue" / "tf" / "0").mkdir(parents=True)
    (root / "gue" / "tf" / "0" / "train.csv").write_text(TRAIN)
    (root / "gue" / "tf" / "0" / "test.csv").write_bytes(data)
    run_dir = root / "run"
    CASES["cli"] += 1
    code = run_cli("attack", "model=tiny-6mer", f"model.path={quick_tiny_model / 'model'}", "dataset=gue/tf/0",
                   f"data_root={root / 'gue'}", "attack=random", "dataset.limit=3", f"sequence.policy={policy}",
                   "progress=false", f"run_dir={run_dir}")
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, err
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("genoarmory: error: ")]
        assert len(errors) == 1 and not run_dir.exists(), err
        ERRORS["cli"][error_kind(errors[0][len("genoarmory: error: "):])] += 1
        return
    VALID["cli"] += 1
    summary_n = json.loads((run_dir / "summary.json").read_text())["n_examples"]
    records = read_json_records(run_dir / "records.jsonl")
    assert 1 <= len(records) == summary_n <= 3
    assert sorted(p.name for p in run_dir.iterdir()) == [".genoarmory.lock", "config.yaml", "records.jsonl", "summary.json"]
