"""The built leaderboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) via playwright.

Opens the site from disk (file://, no server), sorts, filters, compares every number shown with the
entry files, and checks that a model named <script>alert(1)</script> is shown as text and never runs.
CI installs the browser with `apt-get install -y chromium`; elsewhere these tests skip with the reason.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from genoarmory.leaderboard.entries import entry_id, load_board
from genoarmory.leaderboard.reported import import_reported
from genoarmory.leaderboard.site import ALL_METRICS, METRICS, format_metric
from genoarmory.leaderboard.cli import PACKAGED_BOARD
from test_leaderboard import REPO, XSS, lb, make_model_folder, make_records, make_run, new_board

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
from conftest import SHARED  # noqa: E402  (GENOARMORY_SHARED or ../shared)

SHARED_CSV = SHARED / "reference" / "genoarmory_reported.csv"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (CI: apt-get update && apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    """Verified runs (one with plots, one defended, one named like an XSS payload and near chance, one a random
    local model run as `model=dnabert2`, with no successes) beside reported rows."""
    root = tmp_path_factory.mktemp("browser")
    board = new_board(root)
    runs = [
        make_run(root, "a", plots=True, records=make_records(correct=80, success=60)),  # ASR 0.75
        make_run(root, "b", model="tiny-char", attack="textfooler", records=make_records(correct=80, success=25)),
        make_run(root, "c", model="tiny-bpe", attack="random", records=make_records(correct=80, success=5)),
        make_run(root, "d", model=XSS, attack="random", records=make_records(correct=52, success=26)),  # near chance
        make_run(root, "e", defense="at", records=make_records(correct=80, success=32)),  # ASR 0.4
        make_run(root, "f", attack="random", plots=True, model="dnabert2", records=make_records(correct=80, success=0),
                 model_path=str(make_model_folder(root, "random-dnabert2", b"random weights"))),
    ]
    assert lb("add", *runs, "--board", board) == 0
    if SHARED_CSV.is_file():  # a few real reported rows, so both sources sit side by side
        rows = list(csv.DictReader(SHARED_CSV.open()))
        small = root / "reported.csv"
        with small.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=rows[0].keys())
            writer.writeheader()
            writer.writerows([r for r in rows if r["model_key"] == "dnabert" and r["task"] in ("H3", "H4", "mouse_0")])
        import_reported(small, board)
    return board


@pytest.fixture(scope="module")
def site(board, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    assert lb("build", f"run_dir={out}", "--board", board) == 0
    return out


@pytest.fixture
def open_page(browser):
    """page(path, width) -> a loaded page; fails the test on any console error, page error or dialog."""
    contexts, problems = [], []

    def opener(path: Path, width: int = 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (problems.append(f"dialog opened: {d.message}"), d.dismiss()))
        page.goto(path.resolve().as_uri())
        return page

    yield opener
    for context in contexts:
        context.close()
    assert problems == []


def shown_rows(page) -> list[dict]:
    return page.eval_on_selector_all("#results tbody tr", """rows => rows.map(tr => ({
        id: tr.dataset.id,
        cells: Array.from(tr.children).map(td => td.textContent),
        metrics: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-metric]'))
            .map(td => [td.dataset.metric, {text: td.textContent, value: JSON.parse(td.dataset.value)}]))}))""")


def test_numbers_shown_equal_the_entry_files(site, board, open_page):
    entries = {entry_id(e): e for e in load_board(board)}
    page = open_page(site / "index.html")
    rows = shown_rows(page)
    assert sorted(r["id"] for r in rows) == sorted(entries)  # every entry, once
    for row in rows:
        entry = entries[row["id"]]
        assert row["cells"][:5] == [entry["model"], entry["task"], entry["attack"], entry["defense"], entry["source"]]
        for m in METRICS:
            value = entry["metrics"].get(m["key"])
            assert row["metrics"][m["key"]] == {"text": format_metric(value, m["kind"]), "value": value}, (row["id"], m)
    assert page.text_content("#count").startswith(f"{len(entries)} of {len(entries)} entries")
    assert "NaN" not in page.text_content("#results")  # non-finite numbers never reach a page (schema)


def test_sorting_by_asr_both_ways_keeps_missing_values_last(site, open_page):
    page = open_page(site / "index.html")
    header = page.locator("#results thead button:text-is('ASR')")
    header.click()
    asc = [r["metrics"]["asr"]["value"] for r in shown_rows(page)]
    numbers = [v for v in asc if v is not None]
    assert numbers == sorted(numbers) and asc[: len(numbers)] == numbers and len(numbers) >= 5
    assert page.get_attribute("#results thead th:has(button:text-is('ASR'))", "aria-sort") == "ascending"
    header.click()
    desc = [r["metrics"]["asr"]["value"] for r in shown_rows(page)]
    assert [v for v in desc if v is not None] == sorted(numbers, reverse=True)
    model = page.locator("#results thead button", has_text="Model")
    model.click()
    up = [r["cells"][0] for r in shown_rows(page)]
    model.click()
    down = [r["cells"][0] for r in shown_rows(page)]
    assert down == up[::-1] and up != down and len(set(up)) >= 4


def test_filters_narrow_the_table_and_the_heatmaps(site, open_page):
    page = open_page(site / "index.html")
    page.select_option("select[data-filter=model]", "tiny-char")
    rows = shown_rows(page)
    assert [r["cells"][0] for r in rows] == ["tiny-char"]
    assert page.text_content("#count").startswith("1 of ")
    assert page.locator("#heatmap-grid table.heat").count() == 1
    page.click("button[type=reset]")
    page.select_option("select[data-filter=defense]", "at")
    assert {r["cells"][3] for r in shown_rows(page)} == {"at"}
    page.click("button[type=reset]")
    page.fill("input[data-filter=q]", "alert")
    assert [r["cells"][0] for r in shown_rows(page)] == [XSS]
    page.fill("input[data-filter=q]", "")
    page.select_option("select[data-filter=flagged]", "only")
    flagged = shown_rows(page)
    assert [r["cells"][0] for r in flagged if r["cells"][4] == "verified"] == [XSS]
    assert flagged[0]["cells"][5] == "⚑ near chance" and all(r["cells"][5].startswith("⚑") for r in flagged)
    page.select_option("select[data-filter=flagged]", "none")
    assert XSS not in [r["cells"][0] for r in shown_rows(page)] and all(r["cells"][5] == "" for r in shown_rows(page))


def test_verified_and_reported_sit_side_by_side(site, open_page):
    if not SHARED_CSV.is_file():
        pytest.skip(f"{SHARED_CSV} absent: no reported rows in this board")
    page = open_page(site / "index.html")
    sources = [r["cells"][4] for r in shown_rows(page)]
    assert "verified" in sources and "reported" in sources
    assert sources.index("reported") > max(i for i, s in enumerate(sources) if s == "verified")  # verified first
    page.select_option("select[data-filter=source]", "reported")
    assert {r["cells"][4] for r in shown_rows(page)} == {"reported"}
    flagged = page.locator("#results tbody .flag-count").first.get_attribute("title")
    assert flagged  # the reported flags are visible on hover and on the entry page


def test_heatmap_cells_are_mean_asr(site, board, open_page):
    page = open_page(site / "index.html")
    page.select_option("select[data-filter=source]", "verified")
    cell = page.evaluate("""() => {
        const t = document.querySelector('#heatmap-grid table.heat[data-defense=none]');
        const attacks = Array.from(t.querySelectorAll('thead th')).map(th => th.textContent);
        const row = Array.from(t.querySelectorAll('tbody tr')).find(tr => tr.querySelector('th').textContent.startsWith('tiny-6mer '));
        return row.children[attacks.indexOf('bertattack')].firstChild.textContent; }""")
    assert cell == "75.0%"  # one task, so the mean is that entry's ASR
    assert page.locator("#heatmap-grid table.heat[data-defense=at]").count() == 1


def test_script_model_name_renders_as_text_everywhere(site, board, open_page):
    page = open_page(site / "index.html")
    xss_cells = page.locator("#results tbody td:first-child a", has_text="alert(1)")
    assert xss_cells.count() == 1 and xss_cells.first.text_content() == XSS
    options = page.eval_on_selector_all("select[data-filter=model] option", "os => os.map(o => o.textContent)")
    assert XSS in options
    assert page.evaluate("() => window.__pwned === undefined && document.querySelectorAll('script:not([src]):not([type=\"application/json\"])').length === 0")
    xss_entry = next(e for e in load_board(board) if e["model"] == XSS)
    for path in (site / "entries" / f"{entry_id(xss_entry)}.html", next(site.glob("models/script-alert*.html"))):
        other = open_page(path)
        assert XSS in other.text_content("h1")
        assert other.locator("h1 script").count() == 0


def test_entry_page_shows_numbers_config_and_plots(site, board, open_page):
    entry = next(e for e in load_board(board) if e["model"] == "tiny-6mer" and e["defense"] == "none")
    page = open_page(site / "entries" / f"{entry_id(entry)}.html")
    shown = page.eval_on_selector_all("td[data-metric]", "tds => tds.map(td => [td.dataset.metric, td.textContent])")
    expected = [[m["key"], format_metric(entry["metrics"][m["key"]], m["kind"])] for m in ALL_METRICS if m["key"] in entry["metrics"]]
    assert shown == expected
    assert '"too_long": "error"' in page.text_content("#config")
    page.locator(".plots").scroll_into_view_if_needed()  # the images load lazily, when in view
    page.wait_for_function("() => Array.from(document.querySelectorAll('.plots img')).every(i => i.complete)")
    sizes = page.eval_on_selector_all(".plots img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert sizes == [4, 4]  # both PNGs copied and loaded from disk
    assert page.locator("a.ext[href^='https://']").count() >= 1


def test_phone_width_has_no_page_overflow(site, board, open_page):
    entry = next(e for e in load_board(board) if e["model"] == "tiny-6mer" and e["defense"] == "none")
    for path in (site / "index.html", site / "entries" / f"{entry_id(entry)}.html"):
        page = open_page(path, width=390)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path.name
    # On a phone the header is hidden (one card per entry), so sorting goes through a select.
    page = open_page(site / "index.html", width=390)
    assert not page.locator("#results thead").is_visible() and page.locator("#sort-select").is_visible()
    page.select_option("#sort-select", label="ASR ↓")
    values = [r["metrics"]["asr"]["value"] for r in shown_rows(page)]
    numbers = [v for v in values if v is not None]
    assert numbers == sorted(numbers, reverse=True) and values[: len(numbers)] == numbers


def test_the_committed_board_opens(open_page, tmp_path):
    """The real board (all reported entries and the committed verified ones) renders without errors."""
    out = tmp_path / "site"
    assert lb("build", "--out", out, "--board", PACKAGED_BOARD) == 0
    n = len(list((PACKAGED_BOARD / "data" / "entries").rglob("*.json")))
    page = open_page(out / "index.html")
    assert page.text_content("#count").startswith(f"{n} of {n} entries")
    for block in ("#lb-data", "#lb-effects"):  # strict JSON: a NaN here would empty the whole table
        json.loads(page.text_content(block), parse_constant=lambda c: pytest.fail(f"{c} in {block}"))
    if n > 200:  # the first 200 rows are drawn at once, the rest on demand
        assert page.locator("#results tbody tr").count() == 200
        page.click("#more")
        assert page.locator("#results tbody tr").count() == n
    entries = {entry_id(e): e for e in load_board(PACKAGED_BOARD)}
    for row in shown_rows(page)[::7]:  # a spread of the first page: numbers equal their entry files
        for m in METRICS:
            value = entries[row["id"]]["metrics"].get(m["key"])
            assert row["metrics"][m["key"]] == {"text": format_metric(value, m["kind"]), "value": value}


def test_url_holds_filters_and_sort_both_ways(site, open_page):
    page = open_page(site / "index.html")
    page.select_option("select[data-filter=source]", "verified")
    page.locator("#results thead button:text-is('ASR')").click()
    params = dict(p.split("=", 1) for p in page.evaluate("() => location.hash.slice(1)").split("&"))
    assert params["source"] == "verified" and params["sort"].replace("%3A", ":") == "asr:1"
    # a shared link opens the same view
    shared = open_page(site / "index.html")
    shared.goto((site / "index.html").resolve().as_uri() + "#source=verified&sort=asr:-1&model=tiny-6mer")
    shared.reload()
    assert shared.eval_on_selector("select[data-filter=source]", "s => s.value") == "verified"
    rows = shown_rows(shared)
    assert {r["cells"][0] for r in rows} == {"tiny-6mer"} and {r["cells"][4] for r in rows} == {"verified"}
    values = [r["metrics"]["asr"]["value"] for r in rows]
    assert values == sorted(values, reverse=True) and len(values) == 2


def test_ranking_per_threat_model_hides_near_chance_rows_behind_a_toggle(site, open_page):
    page = open_page(site / "index.html")
    keys = page.eval_on_selector_all("#ranking-select option", "os => os.map(o => o.value)")
    random_key = next(k for k in keys if k.startswith("verified|random") and k.endswith("motif/tata"))
    page.select_option("#ranking-select", random_key)
    table = page.locator(f".ranking[data-key='{random_key}']")
    assert table.is_visible() and page.locator(".ranking:visible").count() == 1
    rows = table.locator("tbody tr")
    models = [rows.nth(i).locator("td").nth(1).text_content() for i in range(rows.count())]
    assert set(models) == {"tiny-bpe", XSS, "random-dnabert2"}
    robust = [rows.nth(i).locator("td").nth(3).text_content() for i in range(rows.count())]
    assert [float(r.rstrip("%")) for r in robust] == sorted((float(r.rstrip("%")) for r in robust), reverse=True)
    chance_row = table.locator("tbody tr.near-chance")
    assert chance_row.count() == 1 and XSS in chance_row.text_content() and not chance_row.is_visible()
    page.check("#show-chance")
    assert chance_row.is_visible() and "chance=1" in page.evaluate("() => location.hash")
    again = open_page(site / "index.html")
    again.goto(page.url)
    again.reload()
    assert again.locator(f".ranking[data-key='{random_key}'] tbody tr.near-chance").is_visible()


def test_defense_effect_heatmap_diverges_and_the_glance_answers(site, open_page):
    page = open_page(site / "index.html")
    cell = page.evaluate("""() => {
        const t = document.querySelector('#defense-heatmaps table.diverging[data-defense=at]');
        const attacks = Array.from(t.querySelectorAll('thead th')).map(th => th.textContent);
        const row = Array.from(t.querySelectorAll('tbody tr')).find(tr => tr.querySelector('th').textContent.startsWith('tiny-6mer '));
        const td = row.children[attacks.indexOf('bertattack')];
        return {text: td.firstChild.textContent, value: JSON.parse(td.dataset.value), bg: td.style.backgroundColor}; }""")
    assert cell["text"] == "−35.0 pt" and abs(cell["value"] - (0.4 - 0.75)) < 1e-12  # 32/80 defended, 60/80 not
    assert cell["bg"].startswith("rgb(") and cell["bg"] != "rgb(255, 255, 255)"
    blue = page.evaluate("() => { const d = document.createElement('div'); d.style.color = 'hsl(212, 70%, 50%)'; return d.style.color; }")
    assert blue.startswith("rgb(")
    at = page.locator("#defense-answer tr[data-defense=at]").first
    assert at.locator("td").nth(3).text_content() == "1" and at.locator("td").nth(4).text_content() == "0"  # helped, hurt
    lead = page.text_content("#glance .answer[data-source=verified] .lead")
    # one task, three attacks: bertattack's and textfooler's only models win; random-dnabert2 (ASR 0) beats
    # tiny-bpe (ASR 0.0625) on random, and the near-chance XSS model (robust accuracy 0.26) is left out
    assert lead.startswith("random-dnabert2 is the most robust in 1 of 3 task × attack cells")
    best = page.text_content("#glance table.best[data-source=verified]")
    assert XSS not in best and all(m in best for m in ("tiny-6mer", "tiny-char", "random-dnabert2"))


def test_a_mislabelled_hub_model_is_shown_under_its_own_name(site, board, open_page):
    page = open_page(site / "index.html")
    page.select_option("select[data-filter=source]", "verified")
    models = {r["cells"][0] for r in shown_rows(page)}
    assert "random-dnabert2" in models and "dnabert2" not in models
    entry = next(e for e in load_board(board) if e["model"] == "random-dnabert2")
    other = open_page(site / "entries" / f"{entry_id(entry)}.html")
    assert "matches no known revision" in other.text_content("#identity + table")
    assert other.locator("a[href*='huggingface.co']").count() == 0
    assert other.locator(".plots img").count() == 0 and "no edits to plot" in other.text_content(".no-plots")
    assert len(other.text_content("#identity + table code.hash")) == 64


def test_entry_pages_do_not_overflow_on_desktop(site, board, open_page):
    for entry in load_board(board):
        if entry["source"] == "verified":
            page = open_page(site / "entries" / f"{entry_id(entry)}.html", width=1280)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280, entry_id(entry)
