"""Jinja2 templates of the leaderboard site (a package only so that setuptools ships the .html files)."""
