"""The README's notebook-style example (in-memory model -> attack -> DataFrame -> plot) runs exactly as
written: the block after `<!-- readme-example -->` is extracted and executed in a scratch folder."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    match = re.search(r"<!-- readme-example -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, "README.md lost its <!-- readme-example --> python block"
    return match.group(1)


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_example(), str(README), "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert re.search(r"AttackResult\(my-model · motif/tata · bertattack: 20 examples, asr=\d\.\d{3}, valid_asr=\d", out)
    assert (tmp_path / "edits_per_success.png").stat().st_size > 0
    assert (tmp_path / "runs" / "notebook" / "records.jsonl").read_text().count("\n") == 20
