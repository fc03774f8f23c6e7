"""The built leaderboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) via playwright.

Opens the site from disk (file://, no server), sorts, filters, compares every number shown with the
entry files, and checks that a model named <script>alert(1)</script> is shown as text and never runs.
CI installs the browser with `apt-get install -y chromium`; elsewhere these tests skip with the reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from genoarmory.leaderboard.entries import entry_id, load_board
from genoarmory.leaderboard.reported import import_reported
from genoarmory.leaderboard.site import METRICS, format_metric
from genoarmory.leaderboard.cli import PACKAGED_BOARD
from test_leaderboard import REPO, XSS, lb, make_run, new_board

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHARED_CSV = REPO.parent / "shared" / "reference" / "genoarmory_reported.csv"

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
    """Verified runs (one with plots, one defended, one named like an XSS payload) beside reported rows."""
    root = tmp_path_factory.mktemp("browser")
    board = new_board(root)
    runs = [
        make_run(root, "a", plots=True, over={"asr": 0.75, "origin_acc": 0.9, "after_attack_acc": 0.225}),
        make_run(root, "b", model="tiny-char", attack="textfooler", over={"asr": 0.3125, "average_queries": 88.0}),
        make_run(root, "c", model="tiny-bpe", attack="random", over={"asr": 0.0625, "perturbation_rate": 0.1}),
        make_run(root, "d", model=XSS, attack="random", over={"asr": 0.5, "flags": ["clean accuracy near chance"]}),
        make_run(root, "e", defense="at", over={"asr": 0.4, "dsr": 0.6}),
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


def test_sorting_by_asr_both_ways_keeps_missing_values_last(site, open_page):
    page = open_page(site / "index.html")
    header = page.locator("#results thead button", has_text="ASR")
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
    expected = [[m["key"], format_metric(entry["metrics"][m["key"]], m["kind"])] for m in METRICS if m["key"] in entry["metrics"]]
    assert shown == expected
    assert '"too_long": "error"' in page.text_content("#config")
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
    if n > 200:  # the first 200 rows are drawn at once, the rest on demand
        assert page.locator("#results tbody tr").count() == 200
        page.click("#more")
        assert page.locator("#results tbody tr").count() == n
    entries = {entry_id(e): e for e in load_board(PACKAGED_BOARD)}
    for row in shown_rows(page)[::7]:  # a spread of the first page: numbers equal their entry files
        for m in METRICS:
            value = entries[row["id"]]["metrics"].get(m["key"])
            assert row["metrics"][m["key"]] == {"text": format_metric(value, m["kind"]), "value": value}
