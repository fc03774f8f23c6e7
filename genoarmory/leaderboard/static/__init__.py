"""CSS and JS copied into the built site (a package only so that setuptools ships the files)."""
