"""Our attacks against TextAttack's greedy word-swap search composed of the same parts (the bridge), on the
same victim and the same sequences, in one run: sequences/s ratio at equal ASR.

    python benchmarks/versus_textattack.py --out DIR                     # CPU: the embedded default victim
    python benchmarks/versus_textattack.py --out DIR --victims nt2-500m,dnabert2,genomeocean-100m   # GPU victims

TextAttack's `GreedyWordSwapWIR` (`attack=textattack attack.search=greedy`, genoarmory/attacks/textattack_bridge.py)
runs with BERT-Attack's transformation (`attack.transformation=mlm`, the same masked LM) against our
`attack=bertattack`, and with TextFooler's (`neighbours`; the bridge has no sentence-encoder filter) against
our `attack=textfooler`. TextAttack attacks one sequence after another until `--textattack-seconds`; ours
attack all `--n`. The ratio is sequences/s; ASR is compared on exactly the sequences TextAttack finished.
Writes DIR/versus_textattack.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import victims as V  # noqa: E402
from gpu_attack import run_one  # noqa: E402

from genoarmory.results import device_name  # noqa: E402
from genoarmory.testing import compose, embedded_default  # noqa: E402

PAIRS = [("bertattack", "mlm"), ("textfooler", "neighbours")]


def compare(ours: dict, theirs: dict) -> dict:
    ids = list(theirs["success_by_id"])
    return {"ta_examples": len(ids), "ta_seq_per_s": theirs["sequences_per_s"], "ta_asr": theirs["asr"],
            "our_seq_per_s": ours["sequences_per_s"], "our_asr": ours["asr"],
            "our_asr_same_sequences": round(float(np.mean([ours["success_by_id"][i] for i in ids])), 4),
            "ta_successes_same_sequences": int(sum(theirs["success_by_id"].values())),
            "our_successes_same_sequences": int(sum(ours["success_by_id"][i] for i in ids)),
            "seq_per_s_ratio": round(ours["sequences_per_s"] / theirs["sequences_per_s"], 1)}


def side_by_side(victim, examples, configs, seconds: float, label: str) -> list[dict]:
    """configs: [(attack, ours cfg, TextAttack cfg)]"""
    rows = []
    for attack, ours_cfg, ta_cfg in configs:
        ours = run_one(victim, ours_cfg, examples, ours_cfg.attack.get("parallel", "auto"), f"{label}_{attack}")
        theirs = run_one(victim, ta_cfg, examples, 1, f"{label}_textattack-{attack}", time_cap=seconds)
        row = {"victim": label, "attack": attack, "examples": len(examples), **compare(ours, theirs),
               "our_queries_per_s": ours["queries_per_s"], "ta_queries_per_s": theirs["queries_per_s"],
               "our_time_split": ours["time_split"], "ta_time_split": theirs["time_split"]}
        print(json.dumps({k: v for k, v in row.items() if not k.endswith("split")}), flush=True)
        rows.append(row)
    return rows


def embedded(args) -> list[dict]:
    """The embedded default (tiny-6mer on motif/tata, its own MLM), on CPU unless --device says otherwise."""
    over = [f"device={args.device}"]
    cfg, task, victim, examples = embedded_default(args.n, over)
    configs = []
    for attack, transformation in PAIRS:
        ours = compose([f"dataset.limit={args.n}", *over, f"attack={attack}"])
        ta = compose([f"dataset.limit={args.n}", *over, "attack=textattack", "attack.search=greedy",
                      f"attack.transformation={transformation}"])
        configs.append((attack, ours, ta))
    return side_by_side(victim, examples, configs, args.textattack_seconds, f"embedded-{cfg.model.name}")


def benchmark_victims(args, device: torch.device, work: Path) -> list[dict]:
    rows = []
    for name in args.victims.split(","):
        bench = V.build(name, args.scale, device, work)
        examples, _ = V.attacked_examples(bench, args.data, args.n)
        configs = [(attack, V.compose_attack(bench, [f"attack={attack}"], device, work / "cache"),
                    V.compose_attack(bench, ["attack=textattack", "attack.search=greedy",
                                             f"attack.transformation={transformation}"], device, work / "cache",
                                     mlm=transformation == "mlm"))
                   for attack, transformation in PAIRS]
        rows += side_by_side(bench.victim, examples, configs, args.textattack_seconds, name)
        del bench
    return rows


def main(argv: list[str] | None = None) -> int:
    p = V.arguments(__doc__, "embedded", "cpu")
    p.add_argument("--n", type=int, default=40, help="sequences our attacks run on")
    p.add_argument("--textattack-seconds", type=float, default=120.0)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        rows = embedded(args) if args.victims == "embedded" else benchmark_victims(args, device, Path(tmp))
    result = {"device": device_name(device), "threads": torch.get_num_threads(), "versions": V.versions(),
              "argv": sys.argv[1:], "rows": rows}
    (args.out / "versus_textattack.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
