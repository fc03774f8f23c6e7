"""What the site knows about models, attacks and defenses (catalog.json): titles, one-liners, links."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def catalog() -> dict:
    return json.loads(resources.files("genoarmory.leaderboard").joinpath("catalog.json").read_text())


def info(kind: str, name: str) -> dict:
    """catalog entry of a model / attack / defense; unknown names get an empty one (never an error:
    a user's own model is welcome on the board)."""
    return catalog()[kind].get(name, {"title": name, "about": "", "links": []})


def model_card_url(hub_id: str | None) -> str | None:
    return f"https://huggingface.co/{hub_id}" if hub_id else None


def entry_links(model: str, attack: str, defense: str, hub_id: str | None) -> list[dict]:
    """Links shown with an entry: the model card, the model's paper, the attack's and defense's papers."""
    links = []
    card = model_card_url(hub_id or info("models", model).get("hub_id"))
    if card:
        links.append({"label": "model card", "url": card})
    for kind, name, what in (("models", model, "model"), ("attacks", attack, "attack"), ("defenses", defense, "defense")):
        for link in info(kind, name).get("links", []):
            links.append({"label": f"{what} {link['label']}", "url": link["url"]})
    return links
