/// The report page around its data: HTML, CSS and the script that draws
/// the chart, all inline (no network access: the page's own
/// Content-Security-Policy forbids any). The data goes where
/// `__SOCKSTAT_REPORT_DATA__` stands, as one JSON object with `<`, `>` and
/// `&` escaped, so nothing in it can end the script element.
enum ReportTemplate {
    /// The page before and after its data.
    static var parts: (head: String, tail: String) {
        let pieces = page.split(separator: marker, maxSplits: 1, omittingEmptySubsequences: false)
        return (String(pieces[0]), String(pieces[1]))
    }

    private static let marker = "__SOCKSTAT_REPORT_DATA__"

    // The page script reads the data's varint columns as ReportLevels.swift
    // and ReportData.swift write them; change both together. Chunks number
    // labels as first met (ReportCollector); seriesOfLabel maps them to series.
    private static let page = ##"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SockStatLog report</title>
<style>
:root { --ink: #1d2330; --muted: #5d6677; --line: #d9dde5; --paper: #ffffff; --panel: #f6f7f9; --accent: #2458c6; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--paper); }
main { max-width: 1500px; margin: 0 auto; padding: 18px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 2px; font-weight: 650; }
h2 { font-size: 16px; margin: 28px 0 8px; font-weight: 650; }
.sub { color: var(--muted); margin: 0 0 12px; }
#toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 8px 0 6px; }
#toolbar button { font: inherit; min-width: 34px; padding: 3px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--ink); cursor: pointer; }
#toolbar button:hover { background: #e9edf4; }
#toolbar button:focus-visible, #chart-box:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
#range { font-variant-numeric: tabular-nums; margin-left: 10px; font-weight: 600; }
#resolution { color: var(--muted); margin-left: 6px; }
#chart-box { position: relative; border: 1px solid var(--line); border-radius: 8px; background: #fff; user-select: none; touch-action: none; cursor: grab; }
#chart-box.dragging { cursor: grabbing; }
#chart { display: block; width: 100%; height: 560px; }
#chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
#chart .pane-title { font-weight: 600; fill: var(--ink); font-size: 12px; }
#chart .gap-label { fill: #8a8f99; font-size: 11px; }
#tooltip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.96); border: 1px solid var(--line); border-radius: 6px; padding: 6px 9px; font-size: 12px; box-shadow: 0 2px 10px rgba(0,0,0,0.12); min-width: 220px; font-variant-numeric: tabular-nums; z-index: 2; }
#tooltip table { border-collapse: collapse; }
#tooltip td { padding: 0 6px 0 0; white-space: nowrap; }
#tooltip td.n { text-align: right; }
#legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 8px 2px; font-size: 13px; }
#legend span.key { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; flex: none; }
.note { color: var(--muted); font-size: 12.5px; margin: 4px 2px; }
table.data { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.data th, table.data td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.data th { background: var(--panel); font-weight: 600; position: sticky; top: 0; }
table.data td.label, table.data th.label { text-align: left; white-space: normal; word-break: break-all; }
table.data tfoot td { font-weight: 650; border-top: 2px solid var(--line); }
table.data td.when { text-align: left; color: var(--accent); }
footer { margin-top: 26px; color: var(--muted); font-size: 12.5px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
footer dt { font-weight: 600; color: var(--ink); }
footer dd { margin: 0; }
.warn { color: #9a4b00; }
</style>
</head>
<body>
<main>
<h1>SockStatLog report</h1>
<p class="sub" id="covered">Loading…</p>
<div id="toolbar" role="toolbar" aria-label="Zoom and pan">
<button id="zoom-in" title="Zoom in (+)" aria-label="Zoom in">+</button>
<button id="zoom-out" title="Zoom out (−)" aria-label="Zoom out">−</button>
<button id="pan-left" title="Pan left (←)" aria-label="Pan left">←</button>
<button id="pan-right" title="Pan right (→)" aria-label="Pan right">→</button>
<button id="zoom-all" title="Whole range (0)">Whole range</button>
<span id="range" aria-live="polite"></span><span id="resolution"></span>
</div>
<div id="chart-box" tabindex="0" aria-label="Rates over time; use + and − to zoom, arrows to pan">
<svg id="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Sent and received bytes per second per label"></svg>
<div id="tooltip" hidden></div>
</div>
<div id="legend"></div>
<p class="note" id="detail-note"></p>
<p class="note">Wheel or <b>+</b>/<b>−</b> zoom, drag or <b>←</b>/<b>→</b> pan, <b>0</b> whole range. Sent (tx) above the axis, received (rx) below, each on its own scale; rates are bytes/s averaged over the resolution shown. Shaded orange: on cellular. Hatched grey: a gap (no events for longer than <span id="gap-threshold"></span>, a phone asleep).</p>
<h2>Totals</h2>
<div style="overflow-x:auto"><table class="data" id="totals"></table></div>
<p class="note" id="totals-note"></p>
<h2>Largest bursts</h2>
<p class="note">The busiest one-second windows (by <code>t</code>), sent + received.</p>
<table class="data" id="bursts"></table>
<footer><dl id="footer"></dl></footer>
</main>
<script type="application/json" id="report-data">__SOCKSTAT_REPORT_DATA__</script>
<script>
"use strict";
(function () {
const D = JSON.parse(document.getElementById("report-data").textContent);
const NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
  "#9c755f", "#2f4b7c", "#a0cbe8", "#8cd17d", "#d37295", "#499894", "#86bcb6", "#bab0ac"];
const OTHER_COLOUR = "#9aa0a8";
const RESOLUTIONS = [100, 1000, 10000, 60000, 600000, 3600000, 21600000, 86400000, 604800000];
const seriesCount = D.series.length;
const seriesColour = D.series.map((s, i) => (s.labels.length > 1 && i === seriesCount - 1) ? OTHER_COLOUR : PALETTE[i % PALETTE.length]);
const seriesName = D.seriesNames.map((label, i) => displayName(label, D.series[i].labels.length > 1));

// Long labels (up to 1024 bytes) are cut for display; the full text is in a title.
function short(text) {
  const characters = Array.from(text);
  return characters.length > 64 ? characters.slice(0, 61).join("") + "…" : text;
}
function displayName(label, isOther) {
  if (isOther) return label;
  const name = D.labelNames && D.labelNames[label];
  return name ? name + " (" + label + ")" : (label === "" ? "(empty label)" : label);
}

// ---- Formatting ----
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
function human(bytes) {
  if (!isFinite(bytes)) return "–";
  let value = bytes, unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++; }
  const digits = unit === 0 ? 0 : value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return value.toFixed(digits) + " " + UNITS[unit];
}
function rate(bytesPerSecond) { return human(bytesPerSecond) + "/s"; }
function bigHuman(decimal) { return human(Number(decimal)); }
function pad(n, w) { return String(n).padStart(w, "0"); }
function utc(ms, withMillis) {
  const date = new Date(ms);
  if (isNaN(date.getTime())) return String(ms) + " ms";
  const text = date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1, 2) + "-" + pad(date.getUTCDate(), 2) + " " +
    pad(date.getUTCHours(), 2) + ":" + pad(date.getUTCMinutes(), 2) + ":" + pad(date.getUTCSeconds(), 2);
  return withMillis ? text + "." + pad(date.getUTCMilliseconds(), 3) : text;
}
function duration(ms) {
  if (ms < 1000) return Math.round(ms) + " ms";
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + " s";
  const m = s / 60;
  if (m < 60) return Math.floor(m) + " min" + (Math.round(s % 60) ? " " + Math.round(s % 60) + " s" : "");
  const h = m / 60;
  if (h < 48) return Math.floor(h) + " h" + (Math.round(m % 60) ? " " + Math.round(m % 60) + " min" : "");
  return (h / 24).toFixed(1) + " days";
}
function resolutionName(width) {
  return width === 100 ? "100 ms events" : width < 60000 ? (width / 1000) + " s sums" :
    width < 3600000 ? (width / 60000) + " min sums" : width < 86400000 ? (width / 3600000) + " h sums" : (width / 86400000) + " day sums";
}

// ---- Data: varint columns, inflated with the browser's own DecompressionStream ----
function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
async function inflate(text) {
  const stream = new Blob([base64Bytes(text)]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
// Reads varints as numbers (exact below 2^53, which is all a chart needs).
function Reader(bytes) { this.bytes = bytes; this.at = 0; }
Reader.prototype.next = function () {
  const bytes = this.bytes;
  let value = 0, scale = 1, byte;
  do {
    if (this.at >= bytes.length) throw new Error("report data ends early");
    byte = bytes[this.at++];
    value += (byte & 127) * scale;
    scale *= 128;
  } while (byte & 128);
  return value;
};
Reader.prototype.signed = function () { const v = this.next(); return v % 2 === 1 ? -(v + 1) / 2 : v / 2; };
Reader.prototype.column = function (count, signed) {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = signed ? this.signed() : this.next();
  return out;
};
// A level: bucket numbers, per bucket the start of its entries, per entry series, tx, rx.
function readLevel(bytes, width, origin) {
  const r = new Reader(bytes);
  const n = r.next();
  const deltas = r.column(n, true), counts = r.column(n, false);
  const start = new Float64Array(n), end = new Float64Array(n), first = new Uint32Array(n + 1);
  let bucket = origin, entries = 0;
  for (let i = 0; i < n; i++) {
    bucket += deltas[i];
    start[i] = bucket * width; end[i] = start[i] + width;
    first[i] = entries; entries += counts[i];
  }
  first[n] = entries;
  const series = r.column(entries, false), tx = r.column(entries, false), rx = r.column(entries, false);
  return { width, start, end, first, series, tx, rx, count: n };
}
function readIntervals(bytes, origin) {
  const r = new Reader(bytes);
  const n = r.next();
  const starts = r.column(n, true), lengths = r.column(n, false);
  const out = [];
  let previous = origin;
  for (let i = 0; i < n; i++) { const s = previous + starts[i]; out.push([s, s + lengths[i]]); previous = s + lengths[i]; }
  return out;
}
// A chunk's 100 ms events, as a level whose buckets are the events.
function readRaw(bytes, chunkStart) {
  const r = new Reader(bytes);
  const n = r.next();
  const times = r.column(n, true), flags = r.column(n, false), counts = r.column(n, false);
  const start = new Float64Array(n), end = new Float64Array(n), first = new Uint32Array(n + 1), cellular = new Uint8Array(n);
  let time = chunkStart, entries = 0;
  for (let i = 0; i < n; i++) {
    time += times[i];
    const c = flags[i] % 2, zigzag = (flags[i] - c) / 2;
    const d = zigzag % 2 === 1 ? -(zigzag + 1) / 2 : zigzag / 2;
    cellular[i] = c;
    start[i] = time; end[i] = time + (d > 0 ? d : 100);
    first[i] = entries; entries += counts[i];
  }
  first[n] = entries;
  const series = r.column(entries, false), tx = r.column(entries, false), rx = r.column(entries, false);
  return { width: 100, start, end, first, series, tx, rx, count: n, cellular };
}
// 1 s sums of a chunk's events, derived in the page.
function secondsOf(raw) {
  const sums = new Map();
  const order = [];
  const add = (second, i, part) => {
    let row = sums.get(second);
    if (!row) { row = new Float64Array(2 * seriesCount); sums.set(second, row); order.push(second); }
    for (let e = raw.first[i]; e < raw.first[i + 1]; e++) { row[2 * raw.series[e]] += raw.tx[e] * part; row[2 * raw.series[e] + 1] += raw.rx[e] * part; }
  };
  for (let i = 0; i < raw.count; i++) {
    const length = raw.end[i] - raw.start[i];
    // A piece of a rollup tier's event (up to 10 s): spread over its seconds, as the report's own 1 s sums are.
    if (length > 1000 && length <= 10000) {
      for (let s = raw.start[i]; s < raw.end[i];) {
        const next = Math.min(raw.end[i], (Math.floor(s / 1000) + 1) * 1000);
        add(Math.floor(s / 1000), i, (next - s) / length);
        s = next;
      }
    } else add(Math.floor(raw.start[i] / 1000), i, 1);
  }
  order.sort((a, b) => a - b);
  const start = [], end = [], first = [0], series = [], tx = [], rx = [];
  for (const second of order) {
    const row = sums.get(second);
    start.push(second * 1000); end.push(second * 1000 + 1000);
    for (let s = 0; s < seriesCount; s++) if (row[2 * s] || row[2 * s + 1]) { series.push(s); tx.push(row[2 * s]); rx.push(row[2 * s + 1]); }
    first.push(series.length);
  }
  return { width: 1000, start, end, first, series, tx, rx, count: order.length };
}

const chunkWidth = D.chunkWidth;
const chunkInfo = new Map(D.chunks.map(c => [c.chunk, c]));
const chunkData = new Map();   // chunk -> {raw?, seconds} once inflated
const chunkPending = new Map();
let levels = [];               // finest first
let cellular = [], gaps = [];

// Chunks number their labels as first met; the chart draws series. Entries
// of one series may repeat in a bucket ("other"): the chart adds them up.
let seriesOfLabel = [];
function bySeries(level) {
  for (let e = 0; e < level.series.length; e++) level.series[e] = seriesOfLabel[level.series[e]];
  return level;
}
function loadChunk(chunk) {
  if (chunkData.has(chunk) || chunkPending.has(chunk)) return chunkPending.get(chunk) || Promise.resolve();
  const info = chunkInfo.get(chunk);
  if (!info || (!info.raw && !info.seconds)) return Promise.resolve();
  const promise = (async () => {
    const start = chunk * chunkWidth;
    if (info.raw) {
      const raw = bySeries(readRaw(await inflate(info.raw), start));
      chunkData.set(chunk, { raw, seconds: secondsOf(raw) });
    } else {
      chunkData.set(chunk, { seconds: bySeries(readLevel(await inflate(info.seconds), 1000, Math.floor(start / 1000))) });
    }
    chunkPending.delete(chunk);
  })();
  chunkPending.set(chunk, promise);
  return promise;
}
// The finest detail a chunk offers: 100 (events), 1000 (1 s sums) or 0 (none
// kept, or no events: the levels are drawn there).
function chunkDetail(chunk) {
  const info = chunkInfo.get(chunk);
  return !info ? 0 : info.raw ? 100 : 1000;
}

// ---- View ----
const full = { start: D.first, end: Math.max(D.last, D.first + 1000) };
const fullPad = Math.max((full.end - full.start) * 0.01, 500);
const limits = { start: full.start - fullPad, end: full.end + fullPad, minSpan: 1000 };
let view = { start: limits.start, end: limits.end };
const svg = document.getElementById("chart");
const box = document.getElementById("chart-box");
const tooltip = document.getElementById("tooltip");
let layout = null, lastBars = null, renderToken = 0;

function setView(start, end) {
  let span = Math.min(Math.max(end - start, limits.minSpan), limits.end - limits.start);
  let s = start;
  if (end - start !== span) s = (start + end) / 2 - span / 2;
  s = Math.min(Math.max(s, limits.start), limits.end - span);
  view = { start: s, end: s + span };
  render();
}
function zoom(factor, at) {
  const anchor = at === undefined ? (view.start + view.end) / 2 : at;
  const span = Math.max(limits.minSpan, (view.end - view.start) * factor);
  const ratio = (anchor - view.start) / (view.end - view.start);
  setView(anchor - ratio * span, anchor - ratio * span + span);
}
function pan(fraction) {
  const shift = (view.end - view.start) * fraction;
  setView(view.start + shift, view.end + shift);
}

// Which resolution the view asks for: events up to ten minutes, else the
// finest sums with at least a pixel per bucket.
function wantedResolution(span, plotWidth) {
  if (span <= 600000) return 100;
  // Two buckets a pixel at most: 1 s sums for windows up to about 45 minutes.
  for (const width of [1000].concat(levels.map(l => l.width))) if (span / width <= 2 * plotWidth) return width;
  return levels.length ? levels[levels.length - 1].width : 1000;
}
function levelAtLeast(width) {
  for (const level of levels) if (level.width >= width) return level;
  return levels[levels.length - 1];
}
function levelFrom(level, from, to, sink) {
  // Binary search for the first bucket ending after `from`.
  let lo = 0, hi = level.count;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (level.end[mid] <= from) lo = mid + 1; else hi = mid; }
  for (let i = lo; i < level.count && level.start[i] < to; i++) sink(level, i);
}

// Bars in time order: [start, end, width, level, index]; plus the detail shown per stretch.
function collectBars(wanted) {
  const bars = [], detail = [];
  const push = (level, i) => bars.push([level.start[i], level.end[i], level, i]);
  if (wanted >= 10000 || !levels.length) {
    const level = levelAtLeast(wanted);
    if (level) { levelFrom(level, view.start, view.end, push); detail.push([view.start, view.end, level.width]); }
    return { bars, detail, missing: [] };
  }
  const missing = [];
  const firstChunk = Math.floor(view.start / chunkWidth), lastChunk = Math.floor((view.end - 1) / chunkWidth);
  for (let chunk = firstChunk; chunk <= lastChunk; chunk++) {
    const from = Math.max(view.start, chunk * chunkWidth), to = Math.min(view.end, (chunk + 1) * chunkWidth);
    const offered = chunkDetail(chunk);
    const data = chunkData.get(chunk);
    if (offered > 0 && !data) missing.push(chunk);
    let level = null;
    if (data && wanted === 100 && data.raw) level = data.raw;
    else if (data) level = data.seconds;
    if (level) { levelFrom(level, from, to, push); detail.push([from, to, level.width]); continue; }
    // Nothing finer kept here: the finest level (nothing at all where the chunk had no events).
    const coarse = levelAtLeast(10000);
    const before = bars.length;
    if (coarse) levelFrom(coarse, from, to, push);
    if (bars.length > before) detail.push([from, to, coarse.width]);
  }
  return { bars, detail, missing };
}

function el(name, attributes, parent) {
  const node = document.createElementNS(NS, name);
  for (const key in attributes) node.setAttribute(key, attributes[key]);
  if (parent) parent.appendChild(node);
  return node;
}
function niceStep(max, ticks) {
  if (!(max > 0)) return 1;
  const raw = max / ticks, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * power;
}
function byteStep(max, ticks) {
  // Steps that read well in binary units: 1, 2, 5 × 1024^k.
  if (!(max > 0)) return 1;
  let unit = 1;
  while (max / unit >= 1024 && unit < Math.pow(1024, 8)) unit *= 1024;
  // Whole bytes at least: no "0 B/s" gridlines.
  return Math.max(1, niceStep(max / unit, ticks) * unit);
}
const TIME_STEPS = [100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000,
  3600000, 7200000, 10800000, 21600000, 43200000, 86400000, 172800000, 604800000, 2592000000, 31536000000];

function render() {
  const token = ++renderToken;
  tooltip.hidden = true;
  const width = Math.max(box.clientWidth, 320), height = svg.clientHeight || 560;
  const margin = { left: 78, right: 18, top: 26, bottom: 44 };
  const axisGap = 22;
  const plotWidth = width - margin.left - margin.right;
  const pane = (height - margin.top - margin.bottom - axisGap) / 2;
  const txBase = margin.top + pane, rxTop = txBase + axisGap;
  const span = view.end - view.start;
  const x = t => margin.left + (t - view.start) / span * plotWidth;
  const wanted = wantedResolution(span, plotWidth);
  const { bars, detail, missing } = collectBars(wanted);
  if (missing.length) Promise.all(missing.map(loadChunk)).then(() => { if (token === renderToken) render(); });
  // Stacked rates per bar.
  let maxTx = 0, maxRx = 0;
  const stacks = bars.map(bar => {
    const [start, end, level, i] = bar;
    const seconds = Math.max(end - start, 1) / 1000;
    const tx = new Float64Array(seriesCount), rx = new Float64Array(seriesCount);
    for (let e = level.first[i]; e < level.first[i + 1]; e++) { tx[level.series[e]] += level.tx[e] / seconds; rx[level.series[e]] += level.rx[e] / seconds; }
    let sumTx = 0, sumRx = 0;
    for (let s = 0; s < seriesCount; s++) { sumTx += tx[s]; sumRx += rx[s]; }
    maxTx = Math.max(maxTx, sumTx); maxRx = Math.max(maxRx, sumRx);
    return { start, end, tx, rx, sumTx, sumRx, width: level.width, cellular: level.cellular ? level.cellular[i] : undefined };
  });
  const txStep = byteStep(maxTx * 1.05, 4), rxStep = byteStep(maxRx * 1.05, 4);
  const txMax = Math.max(txStep, Math.ceil(maxTx * 1.05 / txStep) * txStep), rxMax = Math.max(rxStep, Math.ceil(maxRx * 1.05 / rxStep) * rxStep);
  const yTx = v => txBase - v / txMax * pane, yRx = v => rxTop + v / rxMax * pane;

  svg.textContent = "";
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  const defs = el("defs", {}, svg);
  const pattern = el("pattern", { id: "gap-hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 8, height: 8, fill: "#f1f2f4" }, pattern);
  el("line", { x1: 0, y1: 0, x2: 0, y2: 8, stroke: "#c9ccd2", "stroke-width": 3 }, pattern);
  const clip = el("clipPath", { id: "plot-clip" }, defs);
  el("rect", { x: margin.left, y: margin.top - 4, width: plotWidth, height: height - margin.top - margin.bottom + 4 }, clip);
  const backdrop = el("g", { "clip-path": "url(#plot-clip)" }, svg);
  const grid = el("g", { stroke: "#e6e8ec", "stroke-width": 1 }, svg);
  const plot = el("g", { "clip-path": "url(#plot-clip)" }, svg);
  const axes = el("g", {}, svg);
  const paneTop = margin.top, paneBottom = rxTop + pane;
  // Cellular periods, then gaps, behind the bars.
  for (const [start, end] of cellular) {
    if (end < view.start || start > view.end) continue;
    const x0 = x(start), x1 = Math.max(x(end), x0 + 1);
    el("rect", { x: x0, y: paneTop, width: x1 - x0, height: paneBottom - paneTop, fill: "#fdebd9", class: "cellular" }, backdrop);
  }
  for (const [start, end] of gaps) {
    if (end < view.start || start > view.end) continue;
    const x0 = x(start), x1 = Math.max(x(end), x0 + 1);
    el("rect", { x: x0, y: paneTop, width: x1 - x0, height: paneBottom - paneTop, fill: "url(#gap-hatch)", class: "gap" }, backdrop);
    if (x1 - x0 > 46) {
      const label = el("text", { x: (Math.max(x0, margin.left) + Math.min(x1, margin.left + plotWidth)) / 2, y: txBase + axisGap / 2 + 4, "text-anchor": "middle", class: "gap-label" }, backdrop);
      label.textContent = "no events";
    }
  }
  // Grid and y axes.
  for (let v = txStep; v <= txMax + txStep / 2; v += txStep) {
    el("line", { x1: margin.left, x2: margin.left + plotWidth, y1: yTx(v), y2: yTx(v) }, grid);
    el("text", { x: margin.left - 6, y: yTx(v) + 4, "text-anchor": "end" }, axes).textContent = rate(v);
  }
  for (let v = rxStep; v <= rxMax + rxStep / 2; v += rxStep) {
    el("line", { x1: margin.left, x2: margin.left + plotWidth, y1: yRx(v), y2: yRx(v) }, grid);
    el("text", { x: margin.left - 6, y: yRx(v) + 4, "text-anchor": "end" }, axes).textContent = rate(v);
  }
  el("text", { x: margin.left + 4, y: margin.top - 10, class: "pane-title" }, axes).textContent = "▲ Sent (tx)";
  el("text", { x: margin.left + 4, y: paneBottom + 2 - pane + pane + 0, class: "pane-title", dy: "-4" }, axes).textContent = "▼ Received (rx)";
  // Bars: one path per series and direction, stacked in series order.
  const paths = [];
  for (let s = 0; s < seriesCount; s++) paths.push({ tx: [], rx: [] });
  for (const bar of stacks) {
    const x0 = x(bar.start), x1 = Math.max(x(bar.end), x0 + 0.8);
    if (x1 < margin.left - 1 || x0 > margin.left + plotWidth + 1) continue;
    let upTx = 0, upRx = 0;
    for (let s = 0; s < seriesCount; s++) {
      if (bar.tx[s] > 0) {
        const y0 = yTx(upTx), y1 = yTx(upTx + bar.tx[s]);
        paths[s].tx.push("M" + x0.toFixed(1) + " " + y0.toFixed(1) + "H" + x1.toFixed(1) + "V" + Math.min(y1, y0 - 0.6).toFixed(1) + "H" + x0.toFixed(1) + "Z");
        upTx += bar.tx[s];
      }
      if (bar.rx[s] > 0) {
        const y0 = yRx(upRx), y1 = yRx(upRx + bar.rx[s]);
        paths[s].rx.push("M" + x0.toFixed(1) + " " + y0.toFixed(1) + "H" + x1.toFixed(1) + "V" + Math.max(y1, y0 + 0.6).toFixed(1) + "H" + x0.toFixed(1) + "Z");
        upRx += bar.rx[s];
      }
    }
  }
  for (let s = 0; s < seriesCount; s++) {
    if (paths[s].tx.length) el("path", { d: paths[s].tx.join(""), fill: seriesColour[s], "data-series": s, class: "bars tx" }, plot);
    if (paths[s].rx.length) el("path", { d: paths[s].rx.join(""), fill: seriesColour[s], "data-series": s, class: "bars rx" }, plot);
  }
  // Time axis between the panes, labels below the received pane.
  el("line", { x1: margin.left, x2: margin.left + plotWidth, y1: txBase + 0.5, y2: txBase + 0.5, stroke: "#8d939e" }, axes);
  el("line", { x1: margin.left, x2: margin.left + plotWidth, y1: rxTop - 0.5, y2: rxTop - 0.5, stroke: "#8d939e" }, axes);
  // Past years, tenfold steps: a hostile range of 10^11 years gets a dozen ticks too.
  let step = TIME_STEPS.find(s => s / span * plotWidth >= 110) || TIME_STEPS[TIME_STEPS.length - 1];
  while (step / span * plotWidth < 110) step *= 10;
  let previousDay = null;
  for (let t = Math.ceil(view.start / step) * step; t <= view.end; t += step) {
    const tx = x(t);
    el("line", { x1: tx, x2: tx, y1: paneTop, y2: paneBottom }, grid);
    el("line", { x1: tx, x2: tx, y1: txBase, y2: txBase + 4, stroke: "#8d939e" }, axes);
    const text = utc(t, step < 1000);
    const day = text.slice(0, 10);
    // A label at the right edge ends there rather than being cut.
    const label = el("text", { x: tx, y: paneBottom + 16, "text-anchor": tx > width - 50 ? "end" : "middle" }, axes);
    label.textContent = step < 1000 ? text.slice(14) : step < 60000 ? text.slice(11) : text.slice(11, 16);
    if (day !== previousDay || step >= 86400000) {
      el("text", { x: tx, y: paneBottom + 30, "text-anchor": "middle" }, axes).textContent = step >= 86400000 ? day : day + " UTC";
      previousDay = day;
    }
  }
  // The detail strip: what resolution each stretch is drawn at.
  for (const [from, to, res] of detail) {
    const x0 = Math.max(x(from), margin.left), x1 = Math.min(x(to), margin.left + plotWidth);
    if (x1 <= x0) continue;
    el("rect", { x: x0, y: height - 7, width: x1 - x0, height: 5, fill: res === 100 ? "#2458c6" : res === 1000 ? "#7fa3e6" : "#d7dbe3", class: "detail-strip", "data-resolution": res }, svg);
  }
  el("rect", { x: margin.left - 0.5, y: paneTop - 0.5, width: plotWidth + 1, height: paneBottom - paneTop + 1, fill: "none", stroke: "#d9dde5" }, svg);
  const cursor = el("line", { x1: -10, x2: -10, y1: paneTop, y2: paneBottom, stroke: "#1d2330", "stroke-width": 1, "stroke-dasharray": "3 3", id: "cursor" }, svg);

  layout = { margin, plotWidth, span, x, cursor, paneTop, paneBottom };
  lastBars = stacks;
  const shown = detail.length ? Math.min.apply(null, detail.map(d => d[2])) : wanted;
  const coarsest = detail.length ? Math.max.apply(null, detail.map(d => d[2])) : wanted;
  document.getElementById("range").textContent = utc(view.start, span < 60000) + " – " + utc(view.end, span < 60000) + " UTC (" + duration(span) + ")";
  document.getElementById("resolution").textContent = "· " + resolutionName(shown) + (coarsest !== shown ? " (" + resolutionName(coarsest) + " where finer detail was not kept)" : "");
  svg.dataset.start = view.start; svg.dataset.end = view.end;
  svg.dataset.resolution = shown; svg.dataset.wanted = wanted; svg.dataset.bars = stacks.length;
  svg.dataset.complete = missing.length ? "false" : "true";
}

// ---- Cursor readout ----
function showTooltip(event) {
  if (!layout || !lastBars) return;
  const rect = svg.getBoundingClientRect();
  const px = event.clientX - rect.left, py = event.clientY - rect.top;
  const { margin, plotWidth, span, cursor } = layout;
  if (px < margin.left || px > margin.left + plotWidth) { tooltip.hidden = true; cursor.setAttribute("x1", -10); cursor.setAttribute("x2", -10); return; }
  const t = view.start + (px - margin.left) / plotWidth * span;
  cursor.setAttribute("x1", px); cursor.setAttribute("x2", px);
  // The bar under the cursor, or the nearest within 3 px.
  const slack = 3 / plotWidth * span;
  let best = null, bestDistance = Infinity;
  for (const bar of lastBars) {
    const distance = t < bar.start ? bar.start - t : t >= bar.end ? t - bar.end : 0;
    if (distance < bestDistance) { best = bar; bestDistance = distance; }
    if (bar.start > t + slack) break;
  }
  const inGap = gaps.find(g => t >= g[0] && t < g[1]);
  const onCell = cellular.find(c => t >= c[0] && t < c[1]);
  let html = "";
  const lines = [];
  if (best && bestDistance <= slack) {
    lines.push("<b>" + utc(best.start, best.width < 1000) + "</b> +" + duration(best.end - best.start) + (best.width === 100 ? " (event)" : " (" + resolutionName(best.width) + ")"));
    let table = "<table><tr><td></td><td class=n>sent</td><td class=n>received</td></tr>";
    for (let s = seriesCount - 1; s >= 0; s--) {
      if (!best.tx[s] && !best.rx[s]) continue;
      table += "<tr><td><span class=swatch style=\"background:" + seriesColour[s] + "\"></span> " + escapeHTML(short(seriesName[s])) + "</td><td class=n>" + rate(best.tx[s]) + "</td><td class=n>" + rate(best.rx[s]) + "</td></tr>";
    }
    lines.push(table + "<tr><td><b>all</b></td><td class=n><b>" + rate(best.sumTx) + "</b></td><td class=n><b>" + rate(best.sumRx) + "</b></td></tr></table>");
  } else {
    lines.push("<b>" + utc(t, span < 60000) + "</b>");
    lines.push(inGap ? "no events (gap of " + duration(inGap[1] - inGap[0]) + ")" : "no traffic");
  }
  if (onCell) lines.push("<span class=warn>on cellular</span>");
  html = lines.map(line => line.startsWith("<t") ? line : line + "<br>").join("");
  tooltip.innerHTML = html;
  tooltip.hidden = false;
  const boxRect = box.getBoundingClientRect();
  const left = event.clientX - boxRect.left + 16, top = event.clientY - boxRect.top + 12;
  tooltip.style.left = Math.min(left, boxRect.width - tooltip.offsetWidth - 6) + "px";
  tooltip.style.top = Math.min(top, boxRect.height - tooltip.offsetHeight - 6) + "px";
}
function escapeHTML(text) {
  return text.replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]);
}

// ---- Interaction ----
function timeAt(clientX) {
  const rect = svg.getBoundingClientRect();
  return view.start + (clientX - rect.left - layout.margin.left) / layout.plotWidth * (view.end - view.start);
}
box.addEventListener("wheel", event => {
  event.preventDefault();
  const delta = event.deltaMode === 1 ? event.deltaY * 33 : event.deltaY;
  zoom(Math.exp(Math.max(-3, Math.min(3, delta * 0.0015))), timeAt(event.clientX));
}, { passive: false });
let drag = null;
box.addEventListener("pointerdown", event => {
  if (event.button !== 0) return;
  drag = { x: event.clientX, start: view.start, end: view.end };
  box.setPointerCapture(event.pointerId);
  box.classList.add("dragging");
});
box.addEventListener("pointermove", event => {
  if (drag) {
    const shift = (drag.x - event.clientX) / layout.plotWidth * (drag.end - drag.start);
    setView(drag.start + shift, drag.end + shift);
  }
  showTooltip(event);
});
box.addEventListener("pointerup", () => { drag = null; box.classList.remove("dragging"); });
box.addEventListener("pointerleave", () => { tooltip.hidden = true; });
box.addEventListener("dblclick", event => zoom(0.5, timeAt(event.clientX)));
document.getElementById("zoom-in").onclick = () => zoom(0.5);
document.getElementById("zoom-out").onclick = () => zoom(2);
document.getElementById("pan-left").onclick = () => pan(-0.25);
document.getElementById("pan-right").onclick = () => pan(0.25);
document.getElementById("zoom-all").onclick = () => setView(limits.start, limits.end);
document.addEventListener("keydown", event => {
  if (event.target && /INPUT|TEXTAREA|SELECT/.test(event.target.tagName)) return;
  const keys = { "+": () => zoom(0.5), "=": () => zoom(0.5), "-": () => zoom(2), "_": () => zoom(2),
    "ArrowLeft": () => pan(-0.25), "ArrowRight": () => pan(0.25), "0": () => setView(limits.start, limits.end), "Home": () => setView(limits.start, limits.end) };
  const action = keys[event.key];
  if (action && !event.ctrlKey && !event.metaKey && !event.altKey) { event.preventDefault(); action(); }
});
let resizeTimer = 0;
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 60); });

// ---- Tables ----
function cell(row, text, attributes, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  for (const key in attributes || {}) td.setAttribute(key, attributes[key]);
  row.appendChild(td);
  return td;
}
function headerRow(table, names, leftColumns) {
  const tr = document.createElement("tr");
  names.forEach((name, i) => { const th = document.createElement("th"); th.textContent = name; if (i === 0 || (leftColumns || []).includes(i)) th.className = "label"; tr.appendChild(th); });
  const thead = document.createElement("thead"); thead.appendChild(tr); table.appendChild(thead);
}
function fillTotals() {
  const table = document.getElementById("totals");
  const totals = D.totals;
  if (!totals) return;
  headerRow(table, ["Label", "Sent", "Received", "Total", "Share", "Sent on cellular", "Received on cellular", "Peak (1 s)", "95th pct (1 s)", "Active"]);
  const body = document.createElement("tbody");
  for (const row of totals.labels) {
    const tr = document.createElement("tr");
    tr.dataset.label = row.label;
    const s = D.seriesNames.indexOf(row.label);
    const name = cell(tr, "", { "data-field": "label" }, "label");
    const sw = document.createElement("span");
    sw.className = "swatch"; sw.style.background = s >= 0 && D.series[s].labels.length === 1 ? seriesColour[s] : OTHER_COLOUR; sw.style.marginRight = "6px";
    name.appendChild(sw);
    name.appendChild(document.createTextNode(short(displayName(row.label, false))));
    name.title = displayName(row.label, false);
    for (const field of ["tx", "rx", "total"]) { const td = cell(tr, bigHuman(row[field]), { "data-field": field, "data-value": row[field] }); td.title = row[field] + " bytes"; }
    cell(tr, row.share, { "data-field": "share" });
    for (const field of ["cellular_tx", "cellular_rx"]) { const td = cell(tr, bigHuman(row[field]), { "data-field": field, "data-value": row[field] }); td.title = row[field] + " bytes"; }
    cell(tr, rate(Number(row.peak)), { "data-field": "peak", "data-value": row.peak });
    cell(tr, rate(Number(row.p95)), { "data-field": "p95", "data-value": row.p95 });
    cell(tr, duration(Number(row.seconds_active) * 1000), { "data-field": "seconds_active", "data-value": row.seconds_active });
    body.appendChild(tr);
  }
  table.appendChild(body);
  if (totals.all) {
    const foot = document.createElement("tfoot"), tr = document.createElement("tr");
    tr.dataset.label = "";
    cell(tr, "All labels", {}, "label");
    for (const field of ["tx", "rx", "total"]) cell(tr, bigHuman(totals.all[field]), { "data-field": field, "data-value": totals.all[field] }).title = totals.all[field] + " bytes";
    cell(tr, "100%");
    for (const field of ["cellular_tx", "cellular_rx"]) cell(tr, bigHuman(totals.all[field]), { "data-field": field, "data-value": totals.all[field] }).title = totals.all[field] + " bytes";
    cell(tr, ""); cell(tr, ""); cell(tr, "");
    foot.appendChild(tr); table.appendChild(foot);
  }
  if (totals.omitted) document.getElementById("totals-note").textContent = totals.omitted + " more labels, each smaller than the last row, are left out of the table: together they sent " +
    bigHuman(totals.omittedTotals.tx) + " and received " + bigHuman(totals.omittedTotals.rx) + " (summary lists them all).";
}
function fillBursts() {
  const table = document.getElementById("bursts");
  headerRow(table, ["When (UTC)", "Bytes", "Sent", "Received", "Labels"], [4]);
  const body = document.createElement("tbody");
  for (const burst of D.bursts) {
    const tr = document.createElement("tr");
    const when = cell(tr, utc(burst.t, false), {}, "when");
    when.style.cursor = "pointer"; when.title = "Show the minute around it";
    when.onclick = () => { setView(burst.t - 30000, burst.t + 30000); box.scrollIntoView({ block: "center" }); };
    cell(tr, human(Number(burst.tx) + Number(burst.rx)));
    cell(tr, human(Number(burst.tx)));
    cell(tr, human(Number(burst.rx)));
    cell(tr, burst.labels.map(l => short(displayName(l.label, false)) + " " + human(Number(l.tx) + Number(l.rx))).join(", "), {}, "label");
    body.appendChild(tr);
  }
  table.appendChild(body);
}
function fillLegend() {
  const legend = document.getElementById("legend");
  const add = (colour, text, title) => {
    const key = document.createElement("span"); key.className = "key";
    const sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = colour;
    key.appendChild(sw); key.appendChild(document.createTextNode(text));
    if (title) key.title = title;
    legend.appendChild(key);
  };
  for (let s = 0; s < seriesCount; s++) add(seriesColour[s], short(seriesName[s]) + " · " + bigHuman(D.series[s].bytes), seriesName[s]);
  add("#fdebd9", "cellular"); add("#e3e5e9", "gap (no events)");
  add("#2458c6", "strip: 100 ms events"); add("#7fa3e6", "strip: 1 s sums"); add("#d7dbe3", "strip: coarser sums");
}
function fillFooter() {
  const dl = document.getElementById("footer");
  const item = (term, text, cls) => {
    const dt = document.createElement("dt"); dt.textContent = term;
    const dd = document.createElement("dd"); dd.textContent = text; if (cls) dd.className = cls;
    dl.appendChild(dt); dl.appendChild(dd);
  };
  if (D.coveredFrom !== null) item("Time covered", utc(D.coveredFrom, true) + " – " + utc(D.coveredTo, true) + " UTC (" + duration(D.coveredTo - D.coveredFrom) + ")");
  // Which resolution each period has (rollup tiers: coarse ones first); one period is the time covered.
  if (D.resolutions.length === 1) item("Resolution", D.resolutions[0].text);
  else if (D.resolutions.length > 1) item("Resolution", D.resolutions.map(p => p.text + " from " + utc(p.from, false) + " to " + utc(p.to, false)).join(", ") + " UTC");
  item("Events", D.events.toLocaleString("en-US"));
  item("Gaps", D.gapCount + " longer than " + duration(D.gapMilliseconds) + (D.gapCount ? ", " + duration(Number(D.gapTotal)) + " in all" : "") +
    (D.gapCount > gaps.length ? " (the longest " + gaps.length + " are drawn)" : ""));
  item("Damage", "damage skipped: " + D.damage + " region" + (D.damage === 1 ? "" : "s"), D.damage ? "warn" : "");
  const d = D.detail;
  const kept = d.rawChunks + " of " + (d.rawChunks + d.secondChunks + d.bareChunks) + " ten-minute chunks with their 100 ms events, " + d.secondChunks + " with 1 s sums only, " + d.bareChunks + " with neither";
  item("Detail", kept + "; page limit " + (D.budget / 1e6) + " MB" + (d.droppedLevels ? "; " + d.droppedLevels + " of the finer sum levels left out" : ""));
  item("Colours", D.labelCount > seriesCount || D.series.some(s => s.labels.length > 1) ? "the " + (seriesCount - 1) + " busiest labels have a colour; the other " + D.series[seriesCount - 1].labels.length + " are drawn as one" : "one per label");
}

async function start() {
  levels = await Promise.all(D.levels.map(async l => readLevel(await inflate(l.data), l.width, l.origin)));
  levels.sort((a, b) => a.width - b.width);
  const labelTable = new Reader(await inflate(D.seriesOfLabel));
  seriesOfLabel = labelTable.column(labelTable.next(), false);
  cellular = readIntervals(await inflate(D.cellular), D.first);
  gaps = readIntervals(await inflate(D.gaps), D.first);
  document.getElementById("gap-threshold").textContent = duration(D.gapMilliseconds);
  document.getElementById("covered").textContent = D.events === 0 ? "No traffic was recorded in the range read." :
    utc(D.first, false) + " – " + utc(D.last, false) + " UTC · " + duration(D.last - D.first) + " · " + D.events.toLocaleString("en-US") + " events · " + D.labelCount + " labels" + (D.damage ? " · damage skipped: " + D.damage + " regions" : "");
  const d = D.detail;
  document.getElementById("detail-note").textContent = (d.secondChunks || d.bareChunks || d.droppedLevels)
    ? "To stay under " + (D.budget / 1e6) + " MB this page keeps the 100 ms events of the busiest " + d.rawChunks + " of " + (d.rawChunks + d.secondChunks + d.bareChunks) + " ten-minute chunks, 1 s sums of " + d.secondChunks + " more" + (d.bareChunks ? " and only coarser sums of " + d.bareChunks : "") + "; the strip under the chart shows which."
    : "All detail kept: 100 ms events for every ten-minute chunk.";
  fillLegend(); fillTotals(); fillBursts(); fillFooter();
  // Nothing to draw: no empty chart of 1970.
  if (!D.events) for (const id of ["toolbar", "chart-box", "legend", "detail-note"]) document.getElementById(id).hidden = true;
  render();
  document.body.dataset.ready = "true";
}
window.sockstatReport = { setView: (a, b) => setView(a, b), view: () => ({ start: view.start, end: view.end }), full: () => ({ start: limits.start, end: limits.end }) };
start().catch(error => { document.getElementById("covered").textContent = "This page could not read its data: " + error.message; throw error; });
})();
</script>
</body>
</html>
"""##
}
