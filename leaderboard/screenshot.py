"""Screenshots of a built leaderboard site, to look at before publishing it.

    python -m genoarmory leaderboard build run_dir=_site
    python leaderboard/screenshot.py _site [OUT_DIR]

Writes index and one entry page (the first verified entry, else the first entry) at desktop (1366 px)
and phone (390 px) width as PNGs into OUT_DIR (default SITE/_shots/, replaced with the site on rebuild), with headless Chromium
(Debian's /usr/bin/chromium, driven by playwright). Console errors are printed: there should be none.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = {"desktop": (1366, 900, False), "phone": (390, 844, True)}


def pages(site: Path) -> dict[str, Path]:
    entries = sorted((site / "entries").glob("*.html"), key=lambda p: (not p.name.startswith("verified__"), p.name))
    if not entries:
        raise SystemExit(f"{site}: no entry pages (is this a built leaderboard site?)")
    return {"index": site / "index.html", "entry": entries[0]}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    site = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else site / "_shots"
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width_name, (width, height, mobile) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile, has_touch=mobile)
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            for name, path in pages(site).items():
                page.goto(path.resolve().as_uri())
                target = out / f"{name}-{width_name}.png"
                page.screenshot(path=str(target), full_page=name == "entry")
                print(target)
            context.close()
        browser.close()
    for error in errors:
        print(f"console error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
