"""Plots of robustness beyond attacks: corruption curves (accuracy per severity, one panel per sequencing
error profile) and the transfer matrix heatmap. PNG and PDF, drawn only from numbers in the summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genoarmory.analysis.plots import _pyplot, _save


def plot_corruption_curves(table: list[dict], clean: float, clean_mcc: float, out_dir: Path,
                           title: str) -> list[Path]:
    """`table`: rows {profile, severity, accuracy, mcc, valid_accuracy} (commands/corrupt.py)."""
    plt = _pyplot()
    profiles = list(dict.fromkeys(r["profile"] for r in table))
    fig, axes = plt.subplots(1, len(profiles), figsize=(3.2 * len(profiles), 3), sharey=True, squeeze=False)
    for ax, profile in zip(axes[0], profiles):
        rows = sorted((r for r in table if r["profile"] == profile), key=lambda r: r["severity"])
        xs = [0.0] + [r["severity"] for r in rows]
        ax.plot(xs, [clean] + [r["accuracy"] for r in rows], marker="o", label="accuracy")
        ax.plot(xs, [clean_mcc] + [r["mcc"] for r in rows], marker="s", linestyle="--", label="MCC")
        if any(r.get("valid_accuracy") is not None for r in rows):
            valid = [np.nan if r.get("valid_accuracy") is None else r["valid_accuracy"] for r in rows]
            ax.plot(xs, [clean] + valid, marker="^", linestyle=":", label="accuracy, label kept")
        ax.locator_params(axis="x", nbins=4)
        ax.set_title(profile)
        ax.set_xlabel("severity")
        ax.set_ylim(-0.05, 1.05)
    axes[0][0].set_ylabel("score")
    axes[0][-1].legend(loc="lower left", fontsize=8)
    fig.suptitle(title, y=1.04)
    paths = _save(fig, Path(out_dir), "corruption_curves")
    plt.close(fig)
    return paths


def plot_transfer_matrix(sources: list[str], targets: list[str], rates: np.ndarray, out_dir: Path,
                         title: str) -> list[Path]:
    """rates[i, j]: fraction of source i's successes that also fool target j (NaN where none)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.4 * len(targets) + 2, 1.1 * len(sources) + 1.5))
    image = ax.imshow(rates, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
    ax.set_yticks(range(len(sources)), sources)
    ax.set_xlabel("target model")
    ax.set_ylabel("source (attacked) model")
    for i in range(len(sources)):
        for j in range(len(targets)):
            text = "-" if np.isnan(rates[i, j]) else f"{rates[i, j]:.2f}"
            ax.text(j, i, text, ha="center", va="center", color="white" if rates[i, j] < 0.6 else "black")
    fig.colorbar(image, ax=ax, label="transfer rate")
    ax.set_title(title)
    paths = _save(fig, Path(out_dir), "transfer_matrix")
    plt.close(fig)
    return paths
