"""The leaderboard: one JSON entry per model x task x attack x defense, a schema, and a static site.

entries.py (schema, layout) <- add.py (run summary -> verified entry) / reported.py (paper -> reported
entries) -> site.py (Jinja2 templates + static JS/CSS -> a site that opens from file://). cli.py wires them.
"""
