/* GenoArmory leaderboard: sortable, filterable table and ASR heatmaps, from the JSON embedded in
 * index.html (no fetch: the site must work from file://). Text is only ever set with textContent,
 * never innerHTML, so a model named "<script>" stays text. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("lb-data").textContent);
  var effects = JSON.parse(document.getElementById("lb-effects").textContent);
  var columns = data.columns, rows = data.rows;
  rows.forEach(function (r, i) { r.order = i; });
  function col(key) { return columns.findIndex(function (c) { return c.key === key; }); }
  var KEYS = ["model", "task", "attack", "defense", "source"];
  var MODEL = col("model"), ATTACK = col("attack"), DEFENSE = col("defense"), SOURCE = col("source"), ASR = col("asr");
  var PAGE = 200;  // rows drawn at first: keeps phones responsive; "Show all" draws the rest
  var state = { filters: {}, sort: { col: null, dir: 1 }, showAll: false };

  var form = document.getElementById("filters");
  var tbody = document.querySelector("#results tbody");
  var count = document.getElementById("count");
  var more = document.getElementById("more");
  var heatmaps = document.getElementById("heatmap-grid");
  var sortSelect = document.getElementById("sort-select");
  var defenseMaps = document.getElementById("defense-heatmaps");
  var rankSelect = document.getElementById("ranking-select");
  var showChance = document.getElementById("show-chance");
  // the tracks (certified, corruptions, transfer): one table shown per select; absent when the board has none
  var TRACK_SELECTS = [["certified", "certified-select", "cert"], ["corruptions", "corruptions-select", "corr"],
                       ["transfer", "transfer-select", "xfer"]].map(function (t) {
    return { track: t[0], select: document.getElementById(t[1]), param: t[2] };
  }).filter(function (t) { return t.select !== null; });
  var corruptionMetric = document.getElementById("corruptions-metric");

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function link(text, href, cls) {
    var a = el("a", text, cls);
    a.setAttribute("href", href);
    return a;
  }

  function readFilters() {
    var f = {};
    form.querySelectorAll("[data-filter]").forEach(function (input) {
      f[input.dataset.filter] = input.type === "checkbox" ? input.checked : input.value;
    });
    return f;
  }

  function matches(row, f) {
    for (var i = 0; i < KEYS.length; i++) {
      if (f[KEYS[i]] && row.v[col(KEYS[i])] !== f[KEYS[i]]) return false;
    }
    if (f.flagged === "only" && row.flags.length === 0) return false;
    if (f.flagged === "none" && row.flags.length > 0) return false;
    if (f.q) {
      var hay = KEYS.map(function (k) { return row.v[col(k)]; }).concat(row.flags).join(" ").toLowerCase();
      var words = f.q.toLowerCase().split(/\s+/).filter(Boolean);
      for (var w = 0; w < words.length; w++) if (hay.indexOf(words[w]) < 0) return false;
    }
    return true;
  }

  function compare(a, b) {
    var c0 = state.sort.col, dir = state.sort.dir;
    if (c0 === null) return a.order - b.order;  // the builder's order: verified first, then by name
    var x = a.v[c0], y = b.v[c0];
    if (x === null && y === null) return a.order - b.order;
    if (x === null) return 1;  // missing values last, whichever the direction
    if (y === null) return -1;
    var c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? c * dir : a.order - b.order;
  }

  function badge(source) {
    return el("span", source, "badge badge-" + source);
  }

  function drawRow(row) {
    var tr = el("tr");
    tr.dataset.id = row.id;
    columns.forEach(function (c, i) {
      var td;
      if (c.key === "model") {
        td = el("td");
        td.appendChild(link(row.v[i], row.model_page));
      } else if (c.key === "source") {
        td = el("td");
        td.appendChild(badge(row.v[i]));
      } else if (c.kind === "flags") {
        td = el("td");
        if (row.flags.length) {
          var f = el("span", "⚑ " + row.t[i], "flag-count");
          f.title = row.flags.join("; ");
          td.appendChild(f);
        }
      } else if (c.kind === "key") {
        td = el("td", row.v[i]);
      } else {  // a metric: the builder's formatted text; the exact value alongside for tools and tests
        td = el("td", row.t[i], "num");
        td.dataset.metric = c.key;
        td.dataset.value = JSON.stringify(row.v[i]);
      }
      td.dataset.label = c.label;  // the phone layout shows each cell as "label: value"
      tr.appendChild(td);
    });
    var open = el("td", null, "open");
    open.appendChild(link("details", "entries/" + row.id + ".html", "details"));
    tr.appendChild(open);
    return tr;
  }

  function drawTable(shown) {
    var limit = state.showAll ? shown.length : Math.min(PAGE, shown.length);
    var frag = document.createDocumentFragment();
    for (var i = 0; i < limit; i++) frag.appendChild(drawRow(shown[i]));
    tbody.replaceChildren(frag);
    count.textContent = shown.length + " of " + rows.length + " entries match" +
      (limit < shown.length ? "; showing the first " + limit : "");
    more.hidden = limit >= shown.length;
    more.textContent = "Show all " + shown.length + " rows";
  }

  function heat(value) {
    var light = 96 - 62 * value;  // ASR 0 -> pale, 1 -> dark red
    return { bg: "hsl(8, 78%, " + light + "%)", fg: light < 58 ? "#fff" : "#1a1a1a" };
  }

  function diverging(d) {  // negative (the defense lowered the attack's success) blue, positive red
    var t = Math.min(1, Math.abs(d) / 0.5), light = 96 - 50 * t;
    return { bg: (d < 0 ? "hsl(212, 70%, " : "hsl(8, 78%, ") + light + "%)", fg: light < 60 ? "#fff" : "#1a1a1a" };
  }

  var ASR_MAP = { caption: "defense: ", cls: "heat", empty: "No entries match the filters.",
    text: function (m) { return (100 * m).toFixed(1) + "%"; }, colour: heat, what: "mean ASR" };
  var EFFECT_MAP = { caption: "defense: ", suffix: " — change of the attack's success", cls: "heat diverging",
    empty: "No defended entry with an undefended twin matches the filters.",
    text: function (m) { return (m < 0 ? "−" : "+") + Math.abs(100 * m).toFixed(1) + " pt"; }, colour: diverging,
    what: "mean change" };

  // One heatmap per defense: rows model (source, verified first), columns attack, each cell the mean of
  // `value` over the items (tasks) that fall in it. items: {model, source, attack, defense, value, flagged}.
  function drawHeatGrid(container, items, kind) {
    var byDefense = {};
    items.forEach(function (r) { (byDefense[r.defense] = byDefense[r.defense] || []).push(r); });
    var defenses = Object.keys(byDefense).sort(function (a, b) {
      return (a === "none" ? "" : a).localeCompare(b === "none" ? "" : b);
    });
    var frag = document.createDocumentFragment();
    if (!defenses.length) frag.appendChild(el("p", kind.empty, "muted"));
    defenses.forEach(function (defense) {
      var cells = {}, models = {}, attacks = {};
      byDefense[defense].forEach(function (r) {
        var rowKey = (r.source === "verified" ? "0" : "1") + r.model + "\u0000" + r.source;
        models[rowKey] = [r.model, r.source];
        attacks[r.attack] = true;
        if (r.value === null) return;
        var c = cells[rowKey + "\u0000" + r.attack] = cells[rowKey + "\u0000" + r.attack] || { sum: 0, n: 0, flagged: 0 };
        c.sum += r.value;
        c.n += 1;
        if (r.flagged) c.flagged += 1;
      });
      var attackList = Object.keys(attacks).sort();
      var table = el("table", null, kind.cls);
      table.dataset.defense = defense;
      table.appendChild(el("caption", kind.caption + defense + (kind.suffix || "")));
      var head = el("tr");
      head.appendChild(el("th", "model (source)"));
      attackList.forEach(function (a) { head.appendChild(el("th", a)); });
      table.appendChild(el("thead")).appendChild(head);
      var body = el("tbody");
      Object.keys(models).sort().forEach(function (mk) {
        var tr = el("tr"), th = el("th");
        th.setAttribute("scope", "row");
        th.appendChild(document.createTextNode(models[mk][0] + " "));
        th.appendChild(badge(models[mk][1]));
        tr.appendChild(th);
        attackList.forEach(function (a) {
          var c = cells[mk + "\u0000" + a];
          var td = el("td", c ? kind.text(c.sum / c.n) : "—", "cell");
          if (c) {
            var colour = kind.colour(c.sum / c.n);
            td.style.backgroundColor = colour.bg;
            td.style.color = colour.fg;
            td.dataset.value = JSON.stringify(c.sum / c.n);
            td.title = kind.what + " over " + c.n + " task" + (c.n === 1 ? "" : "s") +
              (c.flagged ? "; " + c.flagged + " of them flagged (e.g. clean accuracy near chance): read with care" : "");
            td.appendChild(el("small", "n=" + c.n + (c.flagged ? " · ⚑" + c.flagged : "")));
            if (2 * c.flagged >= c.n) td.classList.add("flagged");  // mostly suspect entries: outline it
          }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      table.appendChild(body);
      var wrap = el("div", null, "heatmap scroll");
      wrap.appendChild(table);
      frag.appendChild(wrap);
    });
    container.replaceChildren(frag);
  }

  function drawHeatmaps(shown) {
    drawHeatGrid(heatmaps, shown.map(function (r) {
      return { model: r.v[MODEL], source: r.v[SOURCE], attack: r.v[ATTACK], defense: r.v[DEFENSE], value: r.v[ASR],
               flagged: r.flags.length > 0 };
    }), ASR_MAP);
  }

  function effectMatches(r, f) {
    for (var i = 0; i < KEYS.length; i++) if (f[KEYS[i]] && r[KEYS[i]] !== f[KEYS[i]]) return false;
    if (f.flagged === "none" && r.flagged) return false;
    if (f.flagged === "only" && !r.flagged) return false;
    return true;
  }

  function drawDefenseHeatmaps() {
    drawHeatGrid(defenseMaps, effects.filter(function (r) { return effectMatches(r, state.filters); }).map(function (r) {
      return { model: r.model, source: r.source, attack: r.attack, defense: r.defense, value: r.d, flagged: r.flagged };
    }), EFFECT_MAP);
  }

  function drawTracks() {
    TRACK_SELECTS.forEach(function (t) {
      document.querySelectorAll('.track-table[data-track="' + t.track + '"]').forEach(function (div) {
        div.hidden = div.dataset.key !== t.select.value;
      });
    });
    if (corruptionMetric) document.getElementById("corruptions").classList.toggle("show-mcc", corruptionMetric.value === "mcc");
  }

  function colourTransfer() {  // the transfer rate as heat, as the ASR heatmaps (0 pale, 1 dark)
    document.querySelectorAll(".transfer-matrix td[data-value]").forEach(function (td) {
      var value = JSON.parse(td.dataset.value);
      if (value === null) return;
      var colour = heat(value);
      td.style.backgroundColor = colour.bg;
      td.style.color = colour.fg;
    });
  }

  function drawRanking() {
    var key = rankSelect.value;
    document.querySelectorAll(".ranking").forEach(function (div) { div.hidden = div.dataset.key !== key; });
    document.getElementById("ranking").classList.toggle("show-chance", showChance.checked);
  }

  // The view lives in the URL (index.html#model=tiny-6mer&sort=asr:-1&rank=...): a shared link opens the same
  // filters, sort and ranking, and every change rewrites it.
  function writeHash() {
    var params = new URLSearchParams();
    Object.keys(state.filters).forEach(function (k) { if (state.filters[k]) params.set(k, state.filters[k]); });
    if (state.sort.col !== null) params.set("sort", columns[state.sort.col].key + ":" + state.sort.dir);
    if (rankSelect.value && rankSelect.selectedIndex > 0) params.set("rank", rankSelect.value);
    if (showChance.checked) params.set("chance", "1");
    TRACK_SELECTS.forEach(function (t) { if (t.select.selectedIndex > 0) params.set(t.param, t.select.value); });
    if (corruptionMetric && corruptionMetric.value !== "acc") params.set("cmetric", corruptionMetric.value);
    var hash = params.toString();
    if (hash !== location.hash.slice(1)) history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function readHash() {
    if (location.hash.indexOf("=") < 0) return;
    new URLSearchParams(location.hash.slice(1)).forEach(function (value, key) {
      if (key === "sort") {
        var parts = value.split(":"), index = col(parts[0]);
        if (index >= 0) state.sort = { col: index, dir: parts[1] === "-1" ? -1 : 1 };
      } else if (key === "rank") {
        if (Array.prototype.some.call(rankSelect.options, function (o) { return o.value === value; })) rankSelect.value = value;
      } else if (key === "chance") {
        showChance.checked = value === "1";
      } else if (TRACK_SELECTS.some(function (t) { return t.param === key; })) {
        var chosen = TRACK_SELECTS.filter(function (t) { return t.param === key; })[0].select;
        if (Array.prototype.some.call(chosen.options, function (o) { return o.value === value; })) chosen.value = value;
      } else if (key === "cmetric") {
        if (corruptionMetric && (value === "acc" || value === "mcc")) corruptionMetric.value = value;
      } else {
        var input = form.querySelector('[data-filter="' + key.replace(/[^a-z]/g, "") + '"]');
        if (!input) return;
        if (input.tagName !== "SELECT" || Array.prototype.some.call(input.options, function (o) { return o.value === value; })) input.value = value;
      }
    });
  }

  function render() {
    state.filters = readFilters();
    var shown = rows.filter(function (r) { return matches(r, state.filters); }).sort(compare);
    drawTable(shown);
    drawHeatmaps(shown);
    drawDefenseHeatmaps();
    drawRanking();
    drawTracks();
    writeHash();
    sortSelect.value = state.sort.col === null ? "" : state.sort.col + ":" + state.sort.dir;
    document.querySelectorAll("#results th").forEach(function (th, i) {
      th.setAttribute("aria-sort", state.sort.col === i ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
    });
  }

  document.querySelectorAll("#results thead button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var index = Number(button.dataset.sort);
      state.sort = { col: index, dir: state.sort.col === index ? -state.sort.dir : 1 };
      render();
    });
  });
  sortSelect.addEventListener("change", function (ev) {
    ev.stopPropagation();
    var parts = sortSelect.value.split(":");
    state.sort = sortSelect.value ? { col: Number(parts[0]), dir: Number(parts[1]) } : { col: null, dir: 1 };
    render();
  });
  form.addEventListener("input", function (ev) { if (ev.target !== sortSelect) { state.showAll = false; render(); } });
  form.addEventListener("change", function (ev) { if (ev.target !== sortSelect) { state.showAll = false; render(); } });
  form.addEventListener("reset", function () { state.sort = { col: null, dir: 1 }; setTimeout(render, 0); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  more.addEventListener("click", function () { state.showAll = true; render(); });

  rankSelect.addEventListener("change", render);
  TRACK_SELECTS.forEach(function (t) { t.select.addEventListener("change", render); });
  if (corruptionMetric) corruptionMetric.addEventListener("change", render);
  ["certified-controls", "corruptions-controls", "transfer-controls"].forEach(function (id) {
    var controls = document.getElementById(id);
    if (controls) controls.addEventListener("submit", function (ev) { ev.preventDefault(); });
  });
  colourTransfer();
  showChance.addEventListener("change", render);
  document.getElementById("ranking-controls").addEventListener("submit", function (ev) { ev.preventDefault(); });
  readHash();
  window.addEventListener("hashchange", function () { readHash(); render(); });
  render();
})();
