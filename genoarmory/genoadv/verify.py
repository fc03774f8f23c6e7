"""`genoadv verify`: re-score every adversarial example of a GenoAdv folder with a fresh forward pass.

Against its own victim (rebuilt from the row's `victim_config` and `victim_path`, falling back to the
hub at `victim_revision` when that folder is gone) every example should still fool it: anything below
100 % means the weights or the scoring changed since the attack — the weight digest says which. With
`--model` every example is scored by another model instead (transfer): the share it fools, and the
share among examples whose ORIGINAL that model classifies correctly (the usual transfer rate, which
does not count examples the model already got wrong).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from genoarmory.errors import UserError
from genoarmory.genoadv.load import config_names, read_config_tables
from genoarmory.progress import progress

CHUNK = 4096  # sequences per progress-bar step; the victim batches inside it
COLUMNS = ["sequence", "label", "is_adversarial", "original_sequence", "victim", "victim_path", "victim_revision",
           "victim_config", "targeted", "target_label", "adv_probs"]


def user_flags(model_config: dict, where: str, trust_remote_code: bool, allow_pickle: bool) -> dict:
    """A model config read from a file (a `train` run's metrics.json, a GenoAdv row's victim_config) is
    data: no interpolation or foreign `_target_` in it (config.check_data), and what it says about
    trust_remote_code / allow_pickle is ignored: only the user's own flags (--trust-remote-code,
    --allow-pickle) turn them on, never a file someone handed over."""
    from genoarmory.config import check_data

    if not isinstance(model_config, dict):
        raise UserError("the model config must be a mapping", where)
    check_data(model_config, where, "model")
    return {**model_config, "trust_remote_code": bool(trust_remote_code), "allow_pickle": bool(allow_pickle)}


def _metrics_model(path: Path) -> dict | None:
    from genoarmory.results import read_json_object

    config = read_json_object(path, "metrics file").get("config")
    return config.get("model") if isinstance(config, dict) else None


def transfer_model_config(model: Path, model_name: str | None, trust_remote_code: bool = False,
                          allow_pickle: bool = False) -> dict:
    """Model config for `--model DIR`: conf/model/<model_name>.yaml, else the config saved by `train`
    (DIR or its parent holding metrics.json), with path = the folder of weights; trust_remote_code and
    allow_pickle are the user's flags only (`user_flags`)."""
    from genoarmory.config import CONF_DIR

    folder = model / "model" if (model / "model" / "config.json").is_file() else model
    where = str(model)
    if not (folder / "config.json").is_file():
        raise UserError("--model: no config.json here or in model/: not a model folder or `train` run", str(model))
    if model_name:
        path = CONF_DIR / "model" / f"{model_name}.yaml"
        if not path.is_file():
            raise UserError(f"--model-name: no conf/model/{model_name}.yaml")
        cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    else:
        cfg = None
        for metrics in (folder / "metrics.json", folder.parent / "metrics.json"):
            if metrics.is_file():
                cfg, where = _metrics_model(metrics), str(metrics)
                if cfg:
                    break
        if not cfg:
            raise UserError("--model: cannot tell which model family this is (no `train` metrics.json beside it); "
                            "add --model-name <conf/model name>, e.g. --model-name tiny-char", str(model))
    cfg = user_flags(cfg, where, trust_remote_code, allow_pickle)
    cfg["path"] = str(folder.resolve())
    return cfg


def build_victim(model_config: dict, num_labels: int, device: str, batch_size, cache_dir, offline):
    from genoarmory.data.example import Task
    from genoarmory.models.load import load_victim

    cfg = OmegaConf.create({"model": model_config, "device": device, "batch_size": batch_size,
                            "sequence": {"too_long": "truncate"}, "cache_dir": str(cache_dir), "offline": offline})
    return load_victim(cfg, Task("genoadv-verify", num_labels, {}))


def source_model_config(victim_config: str, victim_path: str | None, revision: str | None, where: str = "victim_config",
                        trust_remote_code: bool = False, allow_pickle: bool = False) -> dict:
    try:
        cfg = json.loads(victim_config)
    except (TypeError, ValueError, RecursionError):
        raise UserError("victim_config is not a JSON model config", where) from None
    cfg = user_flags(cfg, where, trust_remote_code, allow_pickle)
    if victim_path and Path(victim_path).is_dir():
        cfg["path"] = victim_path
    elif cfg.get("family") == "tiny":
        raise UserError(f"the victim's weights are gone ({victim_path}); pass --model DIR to score with a model "
                        f"you have (for the source victim, retrain it and point --model at it)")
    else:  # moved to another machine: the hub checkpoint at the recorded commit
        cfg["path"] = None
        repo = re.search(r"models--([^/]+?)--([^/]+)/snapshots/", victim_path or "")
        if repo:  # the exact repo the snapshot came from (also when it was a fine-tuned checkpoint)
            cfg.update(hub_id=f"{repo.group(1)}/{repo.group(2)}", use_finetuned=False)
        if revision and re.fullmatch(r"[0-9a-f]{40}", revision):
            cfg["revision"] = revision
    return cfg


def score(victim, sequences: list[str], desc: str, show_progress: bool) -> np.ndarray:
    out = []
    bar = progress(len(sequences), desc, show_progress)
    for i in range(0, len(sequences), CHUNK):
        chunk = sequences[i:i + CHUNK]
        out.append(victim.predict_proba(chunk, use_cache=False))
        bar.update(len(chunk))
    bar.close()
    return np.concatenate(out) if out else np.zeros((0, victim.num_labels), dtype=np.float32)


def verify_folder(folder: Path, model: Path | None = None, model_name: str | None = None,
                  configs: list[str] | None = None, device: str = "auto", batch_size="auto", cache_dir=None,
                  offline: bool = False, show_progress: bool = True, trust_remote_code: bool = False,
                  allow_pickle: bool = False) -> dict:
    """`trust_remote_code`, `allow_pickle`: the user's own flags; nothing in the folder or beside the model
    can turn them on (`user_flags`)."""
    from genoarmory.genoadv.runs import weights_digest
    from genoarmory.hub import default_cache_dir

    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise UserError("no README.md (dataset card): not a GenoAdv folder", str(folder))
    available = config_names(folder)
    unknown = sorted(set(configs or []) - set(available))
    if unknown:
        raise UserError(f"no config {', '.join(unknown)}; this GenoAdv has {', '.join(available)}", str(folder))
    transfer = transfer_model_config(Path(model), model_name, trust_remote_code, allow_pickle) if model else None
    cache_dir = cache_dir or default_cache_dir()
    report = {"folder": str(folder.resolve()), "mode": "transfer" if transfer else "source victim",
              "model": transfer, "configs": {}}
    victims: dict[str, object] = {}
    for config in configs or available:
        rows = _adversarial_rows(folder, config)
        if not rows["sequence"]:
            report["configs"][config] = {"groups": [], "n": 0, "fooled": 0}
            continue
        num_labels = len(rows["adv_probs"][0]) if rows["adv_probs"][0] else 2
        groups: dict[str, list[int]] = {}
        for i in range(len(rows["sequence"])):
            key = "transfer" if transfer else json.dumps([rows["victim_config"][i], rows["victim_path"][i],
                                                          rows["victim_revision"][i]])
            groups.setdefault(key, []).append(i)
        results = []
        for key, idx in groups.items():
            first = idx[0]
            cfg = transfer or source_model_config(rows["victim_config"][first], rows["victim_path"][first],
                                                  rows["victim_revision"][first], f"{folder} ({config})",
                                                  trust_remote_code, allow_pickle)
            vkey = json.dumps([cfg, num_labels], sort_keys=True)
            if vkey not in victims:
                try:
                    victims[vkey] = build_victim(cfg, num_labels, device, batch_size, cache_dir, offline)
                except UserError as err:  # name verify's own flags, not the config keys they set
                    raise UserError(err.message.replace("model.trust_remote_code=true", "--trust-remote-code")
                                    .replace("model.allow_pickle=true", "--allow-pickle"), err.where) from None
            victim = victims[vkey]
            results.append(_score_group(victim, rows, idx, cfg, config, transfer is not None, show_progress,
                                        weights_digest))
        report["configs"][config] = {"groups": results, "n": sum(g["n"] for g in results),
                                     "fooled": sum(g["fooled"] for g in results)}
    n = sum(c["n"] for c in report["configs"].values())
    fooled = sum(c["fooled"] for c in report["configs"].values())
    report.update(n=n, fooled=fooled, percent=round(100.0 * fooled / n, 2) if n else None)
    if transfer:
        base = sum(g["original_correct"] for c in report["configs"].values() for g in c["groups"])
        hit = sum(g["fooled_where_original_correct"] for c in report["configs"].values() for g in c["groups"])
        report.update(original_correct=base, fooled_where_original_correct=hit,
                      transfer_percent=round(100.0 * hit / base, 2) if base else None)
    return report


def _adversarial_rows(folder: Path, config: str) -> dict[str, list]:
    """Adversarial rows of every split of a config, as columns (plus `split`)."""
    out: dict[str, list] = {c: [] for c in COLUMNS + ["split"]}
    for split, table in read_config_tables(folder, config).items():
        if "is_adversarial" not in table.column_names:
            continue  # a published CSV without provenance: nothing to re-score against
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise UserError(f"config {config} split {split}: no provenance column(s) {', '.join(missing)}; "
                            f"verify needs a GenoArmory-built GenoAdv", str(folder))
        data = table.select(COLUMNS).to_pydict()
        keep = [i for i, adv in enumerate(data["is_adversarial"]) if adv]
        for c in COLUMNS:
            out[c] += [data[c][i] for i in keep]
        out["split"] += [split] * len(keep)
    return out


def _score_group(victim, rows, idx, cfg, config, transfer, show_progress, weights_digest) -> dict:
    labels = np.array([rows["label"][i] for i in idx])
    targets = [rows["target_label"][i] if rows["targeted"][i] else None for i in idx]
    probs = score(victim, [rows["sequence"][i] for i in idx], f"verify {config} on {cfg.get('name')}", show_progress)
    pred = probs.argmax(-1)
    fooled = np.array([p == t if t is not None else p != y for p, y, t in zip(pred, labels, targets)])
    by_split: dict[str, dict] = {}
    for j, i in enumerate(idx):
        s = by_split.setdefault(rows["split"][i], {"n": 0, "fooled": 0})
        s["n"] += 1
        s["fooled"] += int(fooled[j])
    result = {"victim": cfg.get("name"), "path": cfg.get("path"), "n": len(idx), "fooled": int(fooled.sum()),
              "percent": round(100.0 * fooled.mean(), 2), "by_split": by_split}
    if transfer:
        original = score(victim, [rows["original_sequence"][i] for i in idx], f"originals on {cfg.get('name')}",
                         show_progress).argmax(-1)
        correct = np.array([p == y for p, y in zip(original, labels)])
        result.update(original_correct=int(correct.sum()), fooled_where_original_correct=int((fooled & correct).sum()),
                      transfer_percent=round(100.0 * (fooled & correct).sum() / correct.sum(), 2) if correct.any() else None)
    else:
        stored = np.array([rows["adv_probs"][i] for i in idx], dtype=np.float64)
        result["max_prob_difference"] = round(float(np.abs(stored - probs).max()), 6)
        recorded = rows["victim_revision"][idx[0]]
        path = Path(cfg["path"]) if cfg.get("path") else None
        if recorded and recorded.startswith("sha256:") and path is not None:
            now = "sha256:" + weights_digest(sorted(path.glob("*.safetensors")))
            result["weights_changed"] = now != recorded
        result["victim_revision"] = recorded
    return result


def format_report(report: dict) -> list[str]:
    lines = [f"GenoAdv {report['folder']} · {report['mode']}"
             + (f" {report['model']['name']} ({report['model']['path']})" if report["model"] else "")]
    for config, c in report["configs"].items():
        for g in c["groups"]:
            splits = ", ".join(f"{s} {v['fooled']}/{v['n']}" for s, v in g["by_split"].items())
            line = f"  {config:<20} {g['victim']:<12} fooled {g['fooled']}/{g['n']} ({g['percent']:.2f} %)  [{splits}]"
            if "original_correct" in g:  # a model near chance on the originals says little about transfer
                line += (f"  originals it classifies correctly: {g['original_correct']}/{g['n']}"
                         f" ({100.0 * g['original_correct'] / g['n']:.1f} %)")
            if g.get("transfer_percent") is not None:
                line += (f", of which fooled: {g['fooled_where_original_correct']}/"
                         f"{g['original_correct']} ({g['transfer_percent']:.2f} %)")
            if g.get("weights_changed"):
                line += "  WARNING: the weights changed since the attack"
            lines.append(line)
        if not c["groups"]:
            lines.append(f"  {config:<20} no adversarial examples with provenance")
    if report["n"]:
        who = "the other model" if report["model"] else "their victim"
        lines.append(f"still fool {who}: {report['fooled']} / {report['n']} ({report['percent']:.2f} %)")
    if report.get("transfer_percent") is not None:
        lines.append(f"transfer rate (originals it classifies correctly): {report['fooled_where_original_correct']} / "
                     f"{report['original_correct']} ({report['transfer_percent']:.2f} %)")
    return lines
