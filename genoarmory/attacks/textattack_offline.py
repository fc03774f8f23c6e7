"""Import textattack without touching the network, and only when an attack asks for it (~6-15 s).

On first import textattack runs `nltk.download` six times (unreachable offline: it hangs or fails), then
dies building `StopwordModification()` at module level with `LookupError: stopwords`. We skip its
post-install step by creating its marker file `post_install_check_3` in a private TA_CACHE_DIR, and
register a local NLTK `stopwords` corpus (scikit-learn's English list; no DNA attack uses stopwords).
textattack's `set_cache_dir` also overwrites HF_HOME, XDG_CACHE_HOME and two more cache variables;
they are restored afterwards so the rest of the process keeps its own caches.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from genoarmory.config import cache_dir as config_cache_dir

MARKER = "post_install_check_3"
CACHE_VARIABLES = ("TA_CACHE_DIR", "HF_HOME", "XDG_CACHE_HOME", "TFHUB_CACHE_DIR", "PYTORCH_TRANSFORMERS_CACHE")


def prepare_offline(folder: Path) -> Path:
    """Marker and stopwords under `folder`; returns the NLTK data directory to register."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()
    nltk_dir = folder / "nltk_data"
    stopwords = nltk_dir / "corpora" / "stopwords" / "english"
    if not stopwords.exists():
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        stopwords.parent.mkdir(parents=True, exist_ok=True)
        tmp = stopwords.with_suffix(".tmp")
        tmp.write_text("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n")
        os.replace(tmp, stopwords)  # atomic: concurrent jobs never read half a list
    return nltk_dir


def import_textattack(cache_dir: str | Path | None = None):
    """The textattack module, imported offline. Idempotent; later calls return it at once."""
    if "textattack" in sys.modules:
        return sys.modules["textattack"]
    # Our own folder even when the user set TA_CACHE_DIR: the marker must not stop their textattack's downloads.
    folder = Path(cache_dir or config_cache_dir()) / "textattack"
    nltk_dir = prepare_offline(folder)
    import nltk

    if str(nltk_dir) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_dir))
    # Libraries that read HF_HOME / XDG_CACHE_HOME once, at import, must see the real values.
    import datasets  # noqa: F401
    import huggingface_hub  # noqa: F401
    import transformers  # noqa: F401

    saved = {name: os.environ.get(name) for name in CACHE_VARIABLES}
    # textattack calls logging.config.dictConfig at import, which disables every logger that exists.
    loggers = {name: lg.disabled for name, lg in logging.root.manager.loggerDict.items()
               if isinstance(lg, logging.Logger)}
    os.environ["TA_CACHE_DIR"] = str(folder)
    try:
        import textattack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name, disabled in loggers.items():
            logging.getLogger(name).disabled = disabled
    logging.getLogger("textattack.shared.utils.install").setLevel(logging.WARNING)  # not an INFO line per attack
    return textattack
