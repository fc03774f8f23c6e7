"""Where attacks strike: edit statistics, motif enrichment, plots, and reading run folders.

Pure numpy/scipy/matplotlib (no torch): analysis runs on any machine that has the run folders.
"""
