"""Metrics: the registry of what is reported (registry.py, light: tables and pages import it) and
each metric's one computation (compute.py, which needs numpy and scikit-learn)."""

from genoarmory.metrics.registry import BY_KEY, METRICS, TRAIN_METRICS, Metric, keys, shown

__all__ = ["BY_KEY", "METRICS", "Metric", "TRAIN_METRICS", "keys", "shown"]
