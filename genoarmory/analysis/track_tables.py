"""The tables of the evaluations beside attacks, as `read RUN_DIR` and the commands print them: a certify
run's certified accuracy per radius (with the smoothing it holds for), a corrupt run's accuracy and MCC per
profile and severity, a transfer matrix. Labels are the metric registry's."""

from __future__ import annotations

from genoarmory.metrics.registry import BY_KEY, CORRUPTION_ROW_METRICS


def _label(key: str) -> str:
    return BY_KEY[key].label


def certified_table(summary: dict):
    from rich.table import Table

    d = summary.get("defense") or {}
    table = Table(title=f"{summary['model']['name']} · {summary['dataset']['name']} · certified (smoothing p="
                        f"{d.get('noise')}, n={d.get('n')}, n0={d.get('n0')}, alpha={d.get('alpha')})")
    table.add_column("radius r", justify="right")
    table.add_column(_label("certified_acc_r0").replace(", radius 0", " at r"), justify="right")
    for r, value in (summary.get("certified_accuracy") or {}).items():
        table.add_row(str(r), f"{value:.3f}")
    for key in ("origin_acc", "smoothed_acc", "abstain_rate", "mean_certified_radius"):
        if summary.get(key) is not None:
            table.add_row(_label(key), BY_KEY[key].cell(summary))
    return table


def corruption_table(summary: dict):
    from rich.table import Table

    table = Table(title=f"{summary['model']['name']} · {summary['dataset']['name']} · natural corruptions")
    for column in ("profile", "severity", *(m.label for m in CORRUPTION_ROW_METRICS)):
        table.add_column(column, justify="left" if column == "profile" else "right")
    # the clean row: the reads uncorrupted, i.e. the summary's clean accuracy and MCC
    table.add_row("clean", "0", BY_KEY["origin_acc"].cell(summary), BY_KEY["clean_mcc"].cell(summary), "", "")
    for r in summary["corruptions"]:
        table.add_row(r["profile"], f"{r['severity']:g}", *(m.cell(r) for m in CORRUPTION_ROW_METRICS))
    if summary.get("corrupted_acc_mean") is not None:  # the registry's corrupted_acc_mean / _mcc_mean / _acc_worst
        table.add_row("mean", "", BY_KEY["corrupted_acc_mean"].cell(summary),
                      BY_KEY["corrupted_mcc_mean"].cell(summary), "", "")
        table.add_row("worst", "", BY_KEY["corrupted_acc_worst"].cell(summary), "", "", "")
        table.caption = f"mean: {_label('corrupted_acc_mean')}, {_label('corrupted_mcc_mean')}; worst: " \
                        f"{_label('corrupted_acc_worst')}"
    return table


def transfer_table(report: dict):
    from rich.table import Table

    table = Table(title=f"transfer rate on {report['dataset']} (rows: attacked model, columns: target)")
    table.add_column("source \\ target")
    for m in report["models"]:
        table.add_column(m, justify="right")
    for m, row in zip(report["models"], report["rates"]):
        table.add_row(m, *("-" if x is None else f"{x:.3f}" for x in row))
    return table


def detail_table(summary: dict):
    """The run's own table when it is a certify or corrupt run (None for an attack run)."""
    what = (summary.get("attack") or {}).get("name")
    if what == "certify" and summary.get("certified_accuracy"):
        return certified_table(summary)
    if what == "corruption" and summary.get("corruptions"):
        return corruption_table(summary)
    return None
