"""The dataset card (README.md) written with the data: the YAML header the Hub and `datasets` read,
then the body rendered from datasets/genoadv/card.md.j2.

The header is made with yaml.safe_dump (never by string templating), so a path or name cannot break
the YAML. Values in the body are HTML-escaped (the Hub renders Markdown to HTML) and table cells
also escape `|`.
"""

from __future__ import annotations

import html
from pathlib import Path

import yaml

from genoarmory.genoadv.schema import FIELDS

TEMPLATE = Path(__file__).resolve().parents[2] / "datasets" / "genoadv" / "card.md.j2"
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M")]


def card_header(manifest: dict) -> dict:
    total = sum(c["clean"] + c["adversarial"] for cfg in manifest["configs"].values() for c in cfg["splits"].values())
    size = next((label for bound, label in SIZE_CATEGORIES if total < bound), "n>10M")
    return {
        "license": manifest["license"],
        "pretty_name": "GenoAdv",
        "task_categories": ["text-classification"],
        "tags": ["biology", "genomics", "dna", "adversarial", "robustness", "genoarmory"],
        "size_categories": [size],
        "configs": [{"config_name": name,
                     "data_files": [{"split": split, "path": path} for split, path in cfg["data_files"].items()]}
                    for name, cfg in sorted(manifest["configs"].items())],
    }


def _escape(value) -> str:
    return html.escape(str(value), quote=False) if value is not None else ""


def _cell(value) -> str:
    return str(value).replace("|", "\\|")


def render_card(manifest: dict) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    if not TEMPLATE.is_file():
        from genoarmory.errors import UserError

        raise UserError("dataset card template missing (install GenoArmory from its source tree)", str(TEMPLATE))
    env = Environment(loader=FileSystemLoader(TEMPLATE.parent), autoescape=False, finalize=_escape,
                      undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = _cell
    header = yaml.safe_dump(card_header(manifest), sort_keys=False, default_flow_style=False)
    body = env.get_template(TEMPLATE.name).render(m=manifest, configs=sorted(manifest["configs"].items()),
                                                       fields=FIELDS)
    return f"---\n{header}---\n\n{body}"
