"""`genoarmory.transfer(runs) -> TransferResult`: the transfer matrix of attack runs on the same examples
(genoarmory/transferability.py), what the `transfer` command prints and writes (OUT/transfer.json and the
transfer_matrix plot)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class TransferResult:
    summary: dict  # transfer.json: models, runs, dataset, rates [source][target], counts per cell
    run_dir: Path | None = None

    @classmethod
    def load(cls, run_dir: str | Path) -> "TransferResult":
        """A saved transfer folder (its transfer.json), as `genoarmory.read` opens it."""
        from genoarmory.results import read_json_object
        from genoarmory.transferability import REPORT

        folder = Path(run_dir)
        report = read_json_object(folder / REPORT, "transfer report")
        problem = _report_problem(report)
        if problem is not None:
            from genoarmory.errors import UserError

            raise UserError(f"not a transfer report: {problem}", str(folder / REPORT))
        return cls(report, folder)

    @property
    def models(self) -> list[str]:
        return list(self.summary["models"])

    def matrix(self):
        """The rates as a DataFrame: rows the attacked (source) model, columns the target."""
        import pandas as pd

        return pd.DataFrame(self.summary["rates"], index=self.models, columns=self.models, dtype=float)

    def to_pandas(self):
        """One row per source x target: successes, how many the target read correctly unattacked, fooled, rate."""
        import pandas as pd

        rates = {(s, t): self.summary["rates"][i][j] for i, s in enumerate(self.models)
                 for j, t in enumerate(self.models)}
        return pd.DataFrame([{**c, "rate": rates[c["source"], c["target"]]} for c in self.summary["counts"]])

    def save(self, out_dir: str | Path) -> Path:
        """OUT/transfer.json and OUT/transfer_matrix.png."""
        import numpy as np

        from genoarmory.analysis.curves import plot_transfer_matrix
        from genoarmory.results import write_json_atomic
        from genoarmory.transferability import REPORT

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / REPORT, self.summary)
        rates = np.array([[np.nan if x is None else x for x in row] for row in self.summary["rates"]], dtype=float)
        plot_transfer_matrix(self.models, self.models, rates, out, f"transfer on {self.summary['dataset']}")
        self.run_dir = out
        return out

    def print(self) -> None:
        from rich.console import Console

        from genoarmory.analysis.track_tables import transfer_table

        Console().print(transfer_table(self.summary))

    def __repr__(self) -> str:
        return f"TransferResult({len(self.models)} models on {self.summary['dataset']}: {', '.join(self.models)})"


def transfer(runs, *, include_label_changed: bool = False, device: str = "auto",
             out_dir: str | Path | None = None) -> TransferResult:
    """Every run's label-preserving successes (all of them with include_label_changed) against every run's
    model; `runs`: finished attack run folders on the same examples. With `out_dir` the report is saved there."""
    from genoarmory.transferability import transfer_matrix

    result = TransferResult(transfer_matrix([Path(r) for r in runs], include_label_changed, device))
    if out_dir is not None:
        result.save(out_dir)
    return result


def _report_problem(report: dict) -> str | None:
    """Why `report` is not what `transfer` writes (a models list, a square rates matrix of it, counts), or None."""
    models = report.get("models")
    if not isinstance(models, list) or not models:
        return "no list of models"
    rates = report.get("rates")
    if not isinstance(rates, list) or len(rates) != len(models) or any(
            not isinstance(row, list) or len(row) != len(models) for row in rates):
        return f"rates is not a {len(models)} x {len(models)} matrix of its models"
    if not isinstance(report.get("counts"), list):
        return "no counts"
    return None
