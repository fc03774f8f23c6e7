"""Plots of a run's edits (matplotlib, Agg backend: no display needed), each saved as PNG and PDF.

File names are stable, the leaderboard links them: positions, substitutions, gc_shift, edits_per_example.
Every plot draws only numbers from `edit_statistics`, which tests check instead of pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genoarmory.analysis.edits import BASES, span_coverage

PLOT_NAMES = ("positions", "substitutions", "gc_shift", "edits_per_example")
FORMATS = ("png", "pdf")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out_dir: Path, name: str) -> list[Path]:
    paths = []
    for fmt in FORMATS:
        path = out_dir / f"{name}.{fmt}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        paths.append(path)
    return paths


def _empty_note(ax, stats):
    if not stats["n_edits"]:
        ax.text(0.5, 0.5, f"no edits in {stats['n_used']} {'/'.join(stats['statuses'])} records",
                ha="center", va="center", transform=ax.transAxes)


def position_histogram(stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """(counts, bin edges) of absolute positions: 1-nt bins up to 200 nt, else ~100 equal bins."""
    length = max(stats["max_length"], 1)
    width = 1 if length <= 200 else int(np.ceil(length / 100))
    edges = np.arange(0, length + width, width)
    return np.histogram(stats["positions"], bins=edges)


def offset_histogram(stats: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(counts, bin edges) of edit offsets from the nearest motif start, 1-nt bins; None without spans."""
    offsets = stats.get("motif_offsets")
    if not offsets:
        return None
    lo, hi = min(offsets), max(offsets)
    return np.histogram(offsets, bins=np.arange(lo, hi + 2))


def plot_positions(plt, stats, records, title):
    offsets = offset_histogram(stats)
    rows = 3 if offsets is not None else 2
    fig, axes = plt.subplots(rows, 1, figsize=(8, 3 * rows), constrained_layout=True)
    ax_abs, ax_norm = axes[0], axes[1]
    counts, edges = position_histogram(stats)
    ax_abs.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="tab:red", label="edits")
    cover = span_coverage(records, stats["max_length"])
    if cover is not None and cover.any():
        twin = ax_abs.twinx()
        twin.fill_between(np.arange(len(cover)), cover, step="post", alpha=0.25, color="tab:blue",
                          label="motif span coverage")
        twin.set_ylabel("fraction of sequences\nin a motif span")
        twin.set_ylim(0, cover.max() * 1.1)
        twin.legend(loc="upper right")
    ax_abs.set(title=f"Edit positions\n{title}", xlabel="position in sequence (nt, 0-based)",
               ylabel=f"edits per {int(np.diff(edges)[0]) if len(edges) > 1 else 1}-nt bin")
    ax_abs.legend(loc="upper left")
    ax_norm.hist([p for p in stats["normalized_positions"] if p == p], bins=20, range=(0, 1), color="tab:orange")
    ax_norm.set(title="Edit positions normalised to sequence length", xlabel="position / sequence length",
                ylabel="edits per 5 % bin")
    if offsets is not None:
        ax_off = axes[2]
        counts, edges = offsets
        ax_off.bar(edges[:-1], counts, width=1.0, align="edge", color="tab:red")
        for width in stats["motif_widths"]:
            ax_off.axvspan(0, width, color="tab:blue", alpha=0.15)
        ax_off.set(title="Edits relative to the nearest ground-truth motif (shaded: motif width)",
                   xlabel="offset from motif start (nt)", ylabel="edits per nt")
    for ax in axes:
        _empty_note(ax, stats)
    return fig


def plot_substitutions(plt, stats, title):
    matrix = np.array(stats["substitutions"]["matrix"])
    fig, ax = plt.subplots(figsize=(5, 4.4), constrained_layout=True)
    image = ax.imshow(matrix, cmap="Reds")
    for i in range(4):
        for j in range(4):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_xticks(range(4), list(BASES))
    ax.set_yticks(range(4), list(BASES))
    ts = stats["substitutions"]["transition_fraction"]
    extra = f"; transitions {100 * ts:.0f} %" if ts is not None else ""
    ax.set(title=f"Substitutions (ref → alt){extra}\n{title}", xlabel="alternative base (adversarial)",
           ylabel="reference base (original)")
    fig.colorbar(image, ax=ax, label="number of edits")
    _empty_note(ax, stats)
    return fig


def plot_gc_shift(plt, stats, title):
    shifts = stats["gc_shift"]["per_example"]
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    if shifts:
        values, counts = np.unique(np.round(shifts, 6), return_counts=True)
        if len(values) <= 30:  # equal lengths give discrete shifts (1/L steps): one bar per value
            step = np.diff(values).min() if len(values) > 1 else 1.0
            ax.bar(values, counts, width=0.8 * step, color="tab:green")
        else:
            ax.hist(shifts, bins=30, color="tab:green")
        ax.axvline(0, color="black", lw=0.8)
        ax.axvline(stats["gc_shift"]["mean"], color="tab:red", ls="--",
                   label=f"mean {stats['gc_shift']['mean']:+.2f} pp")
        ax.legend()
    ax.set(title=f"GC-content shift per example\n{title}",
           xlabel="GC(adversarial) − GC(original) (percentage points)", ylabel="examples")
    _empty_note(ax, stats)
    return fig


def plot_edits_per_example(plt, stats, title):
    per = stats["edits_per_example"]["per_example"]
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    if per:
        values, counts = np.unique(per, return_counts=True)
        ax.bar(values, counts, width=0.8, color="tab:purple")
        ax.set_xticks(values if len(values) <= 20 else np.linspace(values.min(), values.max(), 10).round())
    ax.set(title=f"Edits per example\n{title}", xlabel="edits (nucleotides changed)", ylabel="examples")
    if not per:
        ax.text(0.5, 0.5, "no examples", ha="center", va="center", transform=ax.transAxes)
    return fig


def write_plots(stats: dict, records: list[dict], out_dir: Path, title: str) -> list[Path]:
    """Draw the four plots into out_dir (created), return the written files."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    used = [r for r in records if r.status.value in stats["statuses"]]
    figures = {
        "positions": lambda: plot_positions(plt, stats, used, title),
        "substitutions": lambda: plot_substitutions(plt, stats, title),
        "gc_shift": lambda: plot_gc_shift(plt, stats, title),
        "edits_per_example": lambda: plot_edits_per_example(plt, stats, title),
    }
    paths = []
    for name in PLOT_NAMES:
        fig = figures[name]()
        try:
            paths += _save(fig, out_dir, name)
        finally:
            plt.close(fig)
    return paths
