"""GenoArmory: adversarial robustness benchmark for genomic foundation models."""

__version__ = "0.1.0"
