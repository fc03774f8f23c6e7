"""`python -m genoarmory <command> --help` for the Hydra commands (train, attack, defend), without importing
Hydra, torch or transformers: the config groups and their options, and each setting with the one-line
meaning its YAML comment gives (conf/ is the one source), plus examples."""

from __future__ import annotations

import re

from genoarmory.config import CONF_DIR

EXAMPLES = {
    "attack": [
        ("the embedded default (tiny-6mer, BERT-Attack, TATA-box task), no network", "attack"),
        ("your own model folder and CSV, nothing else named",
         "attack model.path=runs/train/mine/model dataset=csv dataset.path=my.csv"),
        ("a GUE task, TextFooler, 100 examples",
         "attack dataset=gue/tf/0 data_root=../shared/data/gue attack=textfooler dataset.limit=100"),
        ("a sweep", "attack -m model=tiny-6mer,tiny-bpe attack=bertattack,random"),
    ],
    "train": [
        ("fine-tune the tiny 6-mer model on a GUE task", "train model=tiny-6mer dataset=gue/tf/0 data_root=../shared/data/gue"),
        ("fine-tune your own HF folder on your CSV", "train model.path=my-model dataset=csv dataset.path=my_folder"),
    ],
    "defend": [
        ("adversarial training, then BERT-Attack again on the same examples", "defend defense=at"),
        ("FreeLB on your own trained model", "defend defense=freelb model.path=runs/train/mine/model"),
    ],
}
ENV = re.compile(r"\$\{oc\.env:(\w+),([^}]*)\}")  # ${oc.env:NAME,default} shown as `$NAME or default`
SETTING = re.compile(r"^(\s*)([A-Za-z_]\w*):\s*([^#\n]*?)\s*(?:#\s*(.*))?$")
SHARED_SETTINGS = {  # where a command's settings are written once (the bases), by key prefix
    "attack": [("", "_run.yaml"), ("attack.", "attack/_threat.yaml"), ("dataset.", "dataset/_selection.yaml")],
    "defend": [("", "_run.yaml"), ("attack.", "attack/_threat.yaml"), ("dataset.", "dataset/_selection.yaml")],
    "train": [("", "_run.yaml"), ("dataset.", "dataset/_selection.yaml")],
}
MODEL_SETTINGS = ("path", "max_length", "trust_remote_code", "allow_pickle", "quantize")


def settings(path, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted key, default, comment) for each setting of a YAML file (nested keys by indentation;
    `defaults` and `hydra` are Hydra's, not settings)."""
    out, parents = [], []
    for line in (CONF_DIR / path).read_text().splitlines():
        match = SETTING.match(line)
        if not match or line.lstrip().startswith("-"):
            continue
        indent, key, value, comment = len(match[1]), match[2], match[3], match[4] or ""
        parents = [(i, k) for i, k in parents if i < indent]
        if not value:  # a mapping: its keys follow, indented
            parents.append((indent, key))
            continue
        dotted = ".".join([k for _, k in parents] + [key])
        if dotted.split(".")[0] in ("defaults", "hydra") or value.startswith("${oc.") is False and "${" in value:
            continue
        out.append((prefix + dotted, ENV.sub(lambda m: f"${m[1]} or {m[2]}", value), comment))
    return out


def groups(command: str) -> list[tuple[str, str]]:
    """(group, default option) from the command's defaults list."""
    text = (CONF_DIR / f"{command}.yaml").read_text()
    return re.findall(r"^\s*-\s*(model|dataset|attack|defense):\s*([\w/.-]+)", text, re.M)


def options(group: str) -> str:
    """A group's options, nested folders summarised (gue/<group>/<task> (28))."""
    root = CONF_DIR / group
    names = sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml")
                   if not any(part.startswith("_") for part in p.relative_to(root).parts))
    flat = [n for n in names if "/" not in n]
    nested: dict[str, list[str]] = {}
    for n in names:
        if "/" in n:
            nested.setdefault(n.split("/")[0], []).append(n)
    parts = flat + [", ".join(v) if len(v) <= 4 else f"{k}/... ({len(v)}, e.g. {v[0]})" for k, v in nested.items()]
    return ", ".join(parts)


def command_help(command: str, summary: str) -> str:
    lines = [f"usage: python -m genoarmory {command} [group=option ...] [key=value ...] [-m]", "", summary, "",
             "config groups (group=option):"]
    for group, default in groups(command):
        lines.append(f"  {group + '=':<10} default {default}; options: {options(group)}")
    if command in ("attack", "defend", "train"):
        lines.append(f"  {'':<10} model.path=DIR alone: your own HF folder, read as itself (model=local)")
    lines += ["", "settings (key=value; default, meaning):"]
    rows = [(f"model.{k}", v, c) for k, v, c in settings("model/local.yaml") if k in MODEL_SETTINGS]
    for prefix, path in SHARED_SETTINGS[command]:
        rows += [r for r in settings(path, prefix) if prefix or not r[0].startswith("train.") or command != "attack"]
    width = max(len(k) for k, _, _ in rows)
    lines += [f"  {k:<{width}}  {v:<8} {c}".rstrip() for k, v, c in rows]
    lines += ["", "examples:"]
    for what, example in EXAMPLES[command]:
        lines += [f"  # {what}", f"  python -m genoarmory {example}"]
    lines += ["", "Each attack adds its own settings (attack.k, attack.mlm, ...): `--cfg job` prints the whole "
              "composed config; `--hydra-help` gives Hydra's own flags."]
    return "\n".join(lines)
