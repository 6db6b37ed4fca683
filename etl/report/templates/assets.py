"""Inline CSS and JavaScript of the HTML report. No url(), no @import: everything is local."""

from __future__ import annotations

# Local font names only: the report must render offline, on the municipality's own PCs.
STYLE = """
:root {
  --ink: #1d2733; --muted: #5b6776; --line: #d9dee5; --bg: #f4f6f9; --card: #ffffff;
  --brand: #1f3a5f; --accent: #2f6fb2; --error: #c62828; --error-bg: #fdecea;
  --warning: #a15c00; --warning-bg: #fff4e0; --ok: #2e7d32; --ok-bg: #e8f5e9;
}
* { box-sizing: border-box; }
html { font-size: 14px; }
body {
  margin: 0; color: var(--ink); background: var(--bg); line-height: 1.6;
  font-family: "Noto Sans CJK JP", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Meiryo",
    sans-serif;
}
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header.top { background: var(--brand); color: #fff; padding: 20px 0 16px; }
header.top h1 { margin: 0; font-size: 1.6rem; font-weight: 700; letter-spacing: .04em; }
header.top .sub { margin: 4px 0 0; color: #c9d6e8; }
.override {
  background: var(--error); color: #fff; font-weight: 700; font-size: 1.15rem;
  padding: 14px 0; border-bottom: 4px solid #8e0000;
}
.override .wrap::before { content: "⚠ "; }
nav.toc { background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0;
  z-index: 2; }
nav.toc a {
  display: inline-block; padding: 10px 14px; color: var(--brand); text-decoration: none;
  font-weight: 600; border-bottom: 3px solid transparent;
}
nav.toc a:hover { border-bottom-color: var(--accent); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  margin: 20px 0; padding: 8px 24px 20px; }
h2 { font-size: 1.3rem; color: var(--brand); border-bottom: 2px solid var(--brand);
  padding-bottom: 6px; margin: 14px 0 16px; }
h3 { font-size: 1.05rem; margin: 22px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  background: #fbfcfd; }
.card .label { color: var(--muted); font-size: .85rem; }
.card .value { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.card.error { border-color: #f1b0b0; background: var(--error-bg); }
.card.error .value { color: var(--error); }
.card.warning .value { color: var(--warning); }
.card.warning { border-color: #f3d19c; background: var(--warning-bg); }
.card.ok { border-color: #a5d6a7; background: var(--ok-bg); }
.card.ok .value { color: var(--ok); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 18px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
.notice { border-left: 4px solid var(--warning); background: var(--warning-bg); padding: 8px 14px;
  margin: 14px 0; }
.notice ul { margin: 4px 0; padding-left: 20px; }
.status { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 700; }
.status.error { background: var(--error-bg); color: var(--error); }
.status.ok { background: var(--ok-bg); color: var(--ok); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 4px; font-size: .95rem; }
caption { text-align: left; font-weight: 700; padding: 6px 0; color: var(--ink); }
th, td { border-bottom: 1px solid var(--line); padding: 6px 10px; text-align: left;
  vertical-align: top; }
th { background: #eef2f7; color: var(--brand); font-weight: 700; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " ↕"; color: #9aa6b5; font-size: .8em; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; color: var(--accent); }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; color: var(--accent); }
tbody tr:nth-child(even) { background: #f8fafc; }
tbody tr:hover { background: #eef5ff; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.ok { color: var(--ok); font-weight: 700; text-align: center; }
td.ng { color: var(--error); font-weight: 700; text-align: center; background: var(--error-bg); }
td.value { font-family: "Noto Sans Mono CJK JP", "MS Gothic", monospace; white-space: pre-wrap; }
td.message { min-width: 22em; }
table.rows { table-layout: fixed; }
table.rows td { overflow-wrap: anywhere; }
table.rows td.num, table.rows th.num { padding-right: 20px; }
table.kv > tbody > tr > td:first-child { width: 16em; font-weight: 600; }
.sev { display: inline-block; padding: 0 8px; border-radius: 4px; font-size: .85rem;
  font-weight: 700; }
.sev.error { background: var(--error-bg); color: var(--error); }
.sev.warning { background: var(--warning-bg); color: var(--warning); }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: .9rem; margin: 4px 0 12px; }
.chart { margin: 8px 0 18px; }
.chart text { font-size: 12px; fill: var(--ink); }
.chart .bar.error { fill: var(--error); }
.chart .bar.warning { fill: #e0a030; }
.chart .grid { stroke: var(--line); }
details.rule { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0;
  background: #fff; }
details.rule > summary { cursor: pointer; padding: 8px 14px; font-weight: 700;
  background: #f7f9fc; }
details.rule > div { padding: 4px 14px 12px; }
input.filter { width: 22em; max-width: 100%; padding: 4px 8px; margin: 8px 0 2px;
  border: 1px solid var(--line); border-radius: 4px; font: inherit; }
td.num.ng { text-align: right; }
.alert { border: 1px solid #f1b0b0; border-left: 6px solid var(--error);
  background: var(--error-bg); color: var(--error); font-weight: 700; padding: 10px 14px;
  margin: 12px 0; border-radius: 4px; }
table.recon { table-layout: fixed; margin-bottom: 14px; }
.cards .card.accent .value { color: var(--accent); }
.cards .card.added { border-left: 5px solid var(--ok); }
.cards .card.removed { border-left: 5px solid var(--error); }
.cards .card.changed { border-left: 5px solid var(--accent); }
.cards .card.same { border-left: 5px solid #9aa6b5; }
.cards + h3, .group { margin-top: 18px; }
header.top .runs { margin: 8px 0 0; font-size: 1.05rem; font-weight: 600; }
header.top .runs .arrow { color: #8fb3e0; padding: 0 10px; }
header.top .runs code { background: rgba(255,255,255,.12); padding: 1px 6px; border-radius: 4px; }
.chart .bar.change { fill: var(--accent); }
.delta { display: inline-block; min-width: 3.2em; margin-left: 6px; padding: 0 6px;
  border-radius: 4px; font-size: .85rem; text-align: right; font-weight: 700; }
.delta.up { background: var(--ok-bg); color: var(--ok); }
.delta.down { background: var(--error-bg); color: var(--error); }
.delta.same { color: var(--muted); font-weight: 400; }
td.old { background: #fdf1f0; }
td.new { background: #eef8ef; }
svg.mix rect.added { fill: #43a047; }
svg.mix rect.removed { fill: var(--error); }
svg.mix rect.changed { fill: var(--accent); }
svg.mix rect.same { fill: #d5dbe3; }
.legend { color: var(--muted); font-size: .85rem; margin: 2px 0 8px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin: 0 4px 0 12px; vertical-align: -1px; }
.legend i.added { background: #43a047; } .legend i.removed { background: var(--error); }
.legend i.changed { background: var(--accent); } .legend i.same { background: #d5dbe3; }
h4 { font-size: .98rem; margin: 18px 0 6px; color: var(--brand); }
.split { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 24px;
  align-items: start; }
.split svg { max-width: 100%; height: auto; }
details.file { border: 1px solid var(--line); border-radius: 6px; margin: 14px 0;
  background: #fff; }
details.file > summary { cursor: pointer; padding: 10px 14px; font-weight: 700;
  background: #f7f9fc; }
details.file > div { padding: 4px 14px 12px; }
.tag { display: inline-block; padding: 0 8px; border-radius: 4px; font-size: .85rem;
  font-weight: 700; margin-left: 6px; background: #eef2f7; color: var(--brand); }
.tag.ok { background: var(--ok-bg); color: var(--ok); }
.tag.error { background: var(--error-bg); color: var(--error); }
.tag.warning { background: var(--warning-bg); color: var(--warning); }
code { font-family: "Noto Sans Mono CJK JP", monospace; font-size: .92em; }
footer { color: var(--muted); font-size: .85rem; padding: 8px 0 28px; }
@media print {
  nav.toc, input.filter { display: none; }
  body { background: #fff; }
  section { break-inside: avoid-page; border: none; }
}
"""

# Sorting and filtering for staff reading a large run; plain DOM, no library.
SCRIPT = """
(function () {
  function cellValue(row, idx, numeric) {
    var text = row.cells[idx] ? row.cells[idx].textContent.trim() : "";
    if (!numeric) { return text; }
    var n = parseFloat(text.replace(/,/g, ""));
    return isNaN(n) ? -Infinity : n;
  }
  document.querySelectorAll("table.sortable th").forEach(function (th) {
    th.addEventListener("click", function () {
      var table = th.closest("table");
      var body = table.tBodies[0];
      var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
      var asc = th.getAttribute("aria-sort") !== "ascending";
      var numeric = th.classList.contains("num");
      th.parentNode.querySelectorAll("th").forEach(function (o) {
        o.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = cellValue(a, idx, numeric), y = cellValue(b, idx, numeric);
        var c = numeric ? x - y : String(x).localeCompare(String(y), "ja");
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  document.querySelectorAll("input.filter").forEach(function (input) {
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var table = document.getElementById(input.getAttribute("data-table"));
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
})();
"""
