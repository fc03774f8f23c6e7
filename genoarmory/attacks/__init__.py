"""Nucleotide-level attacks: goal + threat model (constraints) + transformation + the one search engine."""
