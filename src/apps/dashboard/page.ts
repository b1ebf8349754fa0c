/**
 * The dashboard's web page (docs/dashboard.md, "The page"): one self-contained HTML document, with
 * its CSS and script inline, served at `GET /` by src/apps/dashboard/server.ts. It asks nothing of
 * the network but the same origin's `/api/*` (a Content-Security-Policy says so to the browser),
 * loads no font, and runs in a current Chromium and Firefox without a build step.
 *
 * It speaks the protocol of model.ts: an EventSource on `/api/events` (`event: snapshot`, then
 * `event: delta`); a delta whose `base` is not the page's `seq` makes it fetch `/api/snapshot`;
 * controls POST JSON and show the `{error: {message, hint}}` of a refusal. When the page's own URL
 * has `?token=...`, every `/api/*` request carries it as the same query parameter.
 *
 * Updates are applied to the page's model as they arrive and drawn once per animation frame, in
 * place: no list is rebuilt, the buffer table is virtualised (only the visible rows exist), the CMA
 * maps and the timeline are canvases. `window.__dash` keeps the main-thread time of each update
 * (parse, apply and the frame that draws it) for the browser test.
 *
 * Nothing from the server is ever parsed as HTML: text goes in with textContent.
 * No Node module here: this file is only a string.
 */

const STYLE = String.raw`
:root{--fg:#1d2329;--muted:#5d6974;--line:#d8dee4;--bg:#f6f8fa;--card:#fff;--accent:#0b62c4;--bad:#b3261e;--ok:#1a7f37;--hl:#ffd400}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4rem 1rem;padding:.6rem 1rem;background:#22272e;color:#e6edf3}
header h1{font-size:15px;margin:0;font-weight:600}
header .kind{padding:0 .4rem;border-radius:3px;background:#3d444d;font-size:12px}
header .ro{padding:0 .4rem;border-radius:3px;background:#9a6700;color:#fff;font-size:12px}
header #conn{margin-left:auto;font-size:12px;color:#9da7b3}
header #conn.live::before{content:"\25CF ";color:#3fb950}
header #conn.down::before{content:"\25CF ";color:#f85149}
#cannot-read{margin:0;padding:.3rem 1rem .3rem 2rem;background:#fff8c5;border-bottom:1px solid #e9d67a;font-size:12px}
main{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.8rem;padding:.8rem 1rem}
@media (max-width:1000px){main{grid-template-columns:minmax(0,1fr)}}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem;min-width:0}
section.wide{grid-column:1/-1}
h2{font-size:13px;margin:0 0 .4rem;font-weight:600;display:flex;gap:.6rem;align-items:baseline}
h2 .n{font-weight:400;color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:2px 6px;border-bottom:1px solid var(--line);white-space:nowrap}
#heaps td.h-props{white-space:normal}
#heaps td:last-child{width:22%}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
th button,.head button{all:unset;cursor:pointer;font-weight:600}
th button:focus-visible,.head button:focus-visible,button:focus-visible,[tabindex]:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
[aria-sort=ascending] button::after{content:" \25B2";font-size:9px}
[aria-sort=descending] button::after{content:" \25BC";font-size:9px}
.bar{height:8px;background:#e8ecef;border-radius:4px;overflow:hidden;min-width:60px}
.bar .fill{height:100%;width:0;background:var(--accent)}
.bar.warn .fill{background:#d29922}.bar.full .fill{background:var(--bad)}
.props span{display:inline-block;margin-right:3px;padding:0 4px;border-radius:3px;background:#eef1f4;font-size:11px}
.area{margin:.2rem 0 .8rem}
.area h3{font-size:12px;margin:0 0 .2rem;font-weight:600}
.area .meta{color:var(--muted);font-size:12px;margin-bottom:.2rem}
.area canvas{display:block;image-rendering:pixelated;cursor:crosshair;border:1px solid var(--line)}
.area .a-info{font-size:12px;min-height:1.3em;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:.2rem .8rem;font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px;border:1px solid #0002}
#buf-tools{display:flex;gap:.6rem;align-items:center;margin-bottom:.3rem;flex-wrap:wrap}
#buf-filter{flex:1;min-width:12rem;padding:3px 6px}
.chip{background:#ddf4ff;border:1px solid #54aeff;border-radius:10px;padding:0 .2rem 0 .5rem}
.chip button{all:unset;cursor:pointer;padding:0 .3rem}
.grid{--cols:70px 80px minmax(80px,1.2fr) minmax(80px,1fr) minmax(90px,1.3fr) minmax(90px,1.3fr) 50px}
.grid .row{display:grid;grid-template-columns:var(--cols);height:24px;align-items:center;border-bottom:1px solid var(--line)}
.grid .row span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:0 6px}
.grid .row span.num{text-align:right;font-variant-numeric:tabular-nums}
.grid .head{background:#f0f3f6;border-bottom:1px solid #c4ccd4}
#buf-scroll{position:relative;height:24px;overflow-y:auto;overflow-x:hidden;contain:strict}
#buf-rows{position:absolute;left:0;right:0;top:0;will-change:transform}
#buf-rows .row{cursor:pointer}
#buf-rows .row:hover{background:#f3f8ff}
#buf-rows .row[aria-selected=true]{background:#ddf4ff;box-shadow:inset 3px 0 var(--accent)}
#procs tbody tr{cursor:pointer}
#procs tbody tr:hover{background:#f3f8ff}
#procs tbody tr[aria-selected=true]{background:#ddf4ff}
#detail dl{display:grid;grid-template-columns:auto 1fr;gap:1px .8rem;margin:0 0 .4rem}
#detail dt{color:var(--muted)}#detail dd{margin:0}
#detail h3{font-size:12px;margin:.4rem 0 .2rem}
#detail ul{margin:0;padding-left:1.2rem}
.muted{color:var(--muted)}
#findings{list-style:none;margin:0;padding:0;max-height:220px;overflow-y:auto}
#findings li{padding:3px 0;border-bottom:1px solid var(--line);white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
#findings .sev{font-weight:600;margin-right:.4rem}
#findings .error .sev,#findings .bug .sev{color:var(--bad)}
#findings .warning .sev{color:#9a6700}
#timeline-box{position:relative}
#timeline{display:block;width:100%;height:170px}
#controls form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:0 0 .4rem}
#controls label{display:flex;gap:.3rem;align-items:center}
#controls input[type=text]{padding:2px 4px}
#ctl-msg{min-height:1.4em;font-size:12px}
#ctl-msg.err{color:var(--bad)}#ctl-msg.ok{color:var(--ok)}
#workload{font-size:12px;color:#9da7b3}
`;

const BODY = String.raw`
<header>
<h1>dmaheap dashboard</h1>
<span id="source-kind" class="kind"></span>
<span id="source-label">connecting…</span>
<span id="readonly" class="ro" hidden title="nothing on this machine is changed from here">read-only</span>
<span id="workload" hidden></span>
<span id="conn" role="status">connecting</span>
</header>
<ul id="cannot-read" hidden aria-label="what cannot be read"></ul>
<main>
<section id="controls" class="wide" hidden aria-label="controls">
<h2>Controls</h2>
<form id="alloc-form"><label>heap <select id="alloc-heap"></select></label>
<label>size <input id="alloc-size" type="text" size="8" value="1M" aria-describedby="size-help"></label>
<label>name <input id="alloc-name" type="text" size="12" maxlength="63"></label>
<button id="alloc-btn" type="submit">Allocate</button>
<span id="size-help" class="muted">bytes, or with K, M, G</span>
<button id="free-btn" type="button" disabled>Free selected buffer</button></form>
<form id="fault-form"><label>fault <input id="fault-spec" type="text" size="40" placeholder="alloc:nth=3,heap=system" aria-label="fault spec, as --fault"></label>
<button id="fault-btn" type="submit">Inject fault</button></form>
<form id="wl-form" hidden><span id="wl-name"></span>
<button id="wl-pause" type="button">Pause</button>
<label>step <input id="wl-step-us" type="text" size="9" value="100000" aria-label="step, simulated microseconds"> µs</label>
<button id="wl-step" type="submit">Step</button></form>
<div id="ctl-msg" role="status" aria-live="polite"></div>
</section>
<section id="heaps-box"><h2>Heaps <span class="n" id="heap-count"></span></h2>
<table id="heaps"><thead><tr><th>heap</th><th>kind</th><th>properties</th><th class="num">use</th><th>capacity</th></tr></thead><tbody></tbody></table>
</section>
<section id="timeline-box"><h2>Timeline <span class="n" id="timeline-span"></span></h2>
<canvas id="timeline" role="img" aria-label="heap use over the last minutes"></canvas>
<div class="legend" id="timeline-legend"></div>
</section>
<section id="areas-box"><h2>CMA areas <span class="n" id="area-count"></span></h2>
<div class="legend"><span><i style="background:#e8ecef"></i>free</span><span><i style="background:#9a9a9a"></i>allocated, owner unknown</span><span><i style="background:#3a3a3a"></i>pinned</span><span><i style="background:#fff;border:2px solid #ffd400"></i>selected buffer (outlined)</span><span>other colours: one per buffer</span></div>
<div id="areas"></div>
</section>
<section id="detail" aria-live="polite"><h2>Buffer <span class="n" id="d-title">none selected: click a buffer or a page</span></h2>
<div id="d-body" hidden><dl id="d-props"></dl>
<h3>Importers</h3><ul id="d-importers"></ul>
<h3>References</h3><table id="d-refs"><thead><tr><th class="num">pid</th><th>process</th><th class="num">fds</th><th class="num">maps</th></tr></thead><tbody></tbody></table></div>
</section>
<section id="buffers" class="wide"><h2>Buffers <span class="n" id="buf-count"></span></h2>
<div id="buf-tools"><input id="buf-filter" type="search" placeholder="filter: inode, name, exporter, process, device" aria-label="filter buffers">
<span id="proc-chip" class="chip" hidden><span id="proc-chip-text"></span><button id="proc-clear" type="button" aria-label="show all processes' buffers">×</button></span></div>
<div class="grid" role="grid" aria-label="buffers" id="buf-grid">
<div class="row head" role="row" id="buf-head">
<span role="columnheader" class="num" data-key="ino"><button type="button" data-key="ino">inode</button></span>
<span role="columnheader" class="num" data-key="size"><button type="button" data-key="size">size</button></span>
<span role="columnheader" data-key="name"><button type="button" data-key="name">name</button></span>
<span role="columnheader" data-key="exporter"><button type="button" data-key="exporter">exporter</button></span>
<span role="columnheader" data-key="procs"><button type="button" data-key="procs">processes</button></span>
<span role="columnheader" data-key="imps"><button type="button" data-key="imps">importers</button></span>
<span role="columnheader" class="num" data-key="maps"><button type="button" data-key="maps">maps</button></span>
</div>
<div id="buf-scroll" tabindex="0" aria-label="buffer rows: arrow keys move the selection"><div id="buf-spacer"></div><div id="buf-rows" role="rowgroup"></div></div>
</div>
</section>
<section id="procs-box"><h2>Processes <span class="n" id="proc-count"></span></h2>
<table id="procs"><thead><tr>
<th class="num" data-key="pid"><button type="button" data-key="pid">pid</button></th>
<th data-key="comm"><button type="button" data-key="comm">command</button></th>
<th class="num" data-key="rss"><button type="button" data-key="rss">Rss</button></th>
<th class="num" data-key="pss"><button type="button" data-key="pss">Pss</button></th>
<th class="num" data-key="nbuf"><button type="button" data-key="nbuf">buffers</button></th>
</tr></thead><tbody></tbody></table>
</section>
<section id="findings-box"><h2>Sanitizer findings <span class="n" id="finding-count"></span></h2>
<ul id="findings"></ul>
</section>
</main>
`;

/* The script: plain ES2017, no template literals (this file holds it in one). */
const SCRIPT = String.raw`
'use strict';
(function () {
var D = { updates: 0, lastApplyMs: 0, maxApplyMs: 0, applyMs: [], snapshots: 0, resyncs: 0, seq: -1, frames: 0 };
window.__dash = D;
function $(id) { return document.getElementById(id); }
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function setText(e, s) { if (e._t !== s) { e.textContent = s; e._t = s; } }
var TOKEN = new URLSearchParams(location.search).get('token');
function api(p) { return TOKEN ? p + (p.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(TOKEN) : p; }

/* ---- formatting ---- */
var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
function bytes(n) {
  if (n == null || !isFinite(n)) return '—';
  var i = 0, v = n;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
  if (i === 0) return String(n) + ' B';
  return (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)).replace(/\.0$/, '') + ' ' + UNITS[i];
}
function int(n) { return n == null ? '—' : Number(n).toLocaleString('en-US'); }
function clock(ms) { var s = Math.max(0, Math.floor(ms / 1000)); var m = Math.floor(s / 60); s %= 60; return m + ':' + (s < 10 ? '0' : '') + s; }
function tri(v, yes, no) { return v == null ? yes + '?' : v ? yes : no; }

/* ---- the model ---- */
var MAX_POINTS = 4000, MAX_FINDINGS = 200;
var S = { seq: -1, t: 0, source: null, heaps: [], areas: [], processes: [], workload: null, timeline: [], findings: [] };
var bufs = new Map();
var procByPid = new Map();
var commKey = '';
var view = [];
var sel = null;          /* selected buffer inode */
var procSel = null;      /* pid whose buffers the table shows */
var procInos = null;
var filterText = '';
var sortKey = 'ino', sortDir = 1;
var psortKey = 'pss', psortDir = -1;
var newFindings = [], findingsReset = true;
var dirty = {};
function dirtyAll() { dirty = { source: 1, heaps: 1, areas: 1, view: 1, rows: 1, procs: 1, findings: 1, timeline: 1, workload: 1, detail: 1 }; }
dirtyAll();

function fillRec(r) {
  var b = r.b, parts = [], pids = [], maps = 0, devs = [], i;
  var refs = Array.isArray(b.refs) ? b.refs : [], imps = Array.isArray(b.importers) ? b.importers : [];
  for (i = 0; i < refs.length; i++) {
    var ref = refs[i], p = procByPid.get(ref.pid);
    pids.push(ref.pid); maps += ref.maps | 0;
    parts.push(p ? p.comm + ' ' + ref.pid : String(ref.pid));
  }
  for (i = 0; i < imps.length; i++) devs.push(imps[i].device + (imps[i].mapped ? ' (mapped)' : ''));
  r.ino = b.ino; r.size = b.size; r.name = b.name == null ? '' : String(b.name); r.exporter = String(b.exporter);
  r.pids = pids; r.procs = parts.join(', '); r.imps = devs.join(', '); r.nimps = imps.length; r.maps = maps;
  r.sizeText = bytes(b.size);
  r.search = (b.ino + ' ' + r.name + ' ' + r.exporter + ' ' + r.procs + ' ' + r.imps + ' ' + r.sizeText).toLowerCase();
}
function rec(b) { var r = { b: b }; fillRec(r); return r; }

function setProcesses(list) {
  S.processes = list; procByPid = new Map();
  var k = [];
  for (var i = 0; i < list.length; i++) { procByPid.set(list[i].pid, list[i]); k.push(list[i].pid + ':' + list[i].comm); }
  k = k.join('|');
  var commsChanged = k !== commKey; commKey = k;
  updateProcInos();
  dirty.procs = 1; dirty.detail = 1;
  return commsChanged;
}
function updateProcInos() {
  var p = procSel == null ? null : procByPid.get(procSel);
  procInos = p ? new Set(p.buffers) : null;
}

function need(o, what) { if (!Array.isArray(o)) throw new Error(what + ' is not a list'); return o; }
function applySnapshot(s) {
  if (!s || typeof s.seq !== 'number') throw new Error('not a snapshot');
  S.seq = s.seq; S.t = s.t; S.source = s.source;
  S.heaps = need(s.heaps, 'heaps'); S.areas = need(s.areas, 'areas');
  S.workload = s.workload || null;
  S.timeline = need(s.timeline, 'timeline').slice(-MAX_POINTS);
  S.findings = need(s.findings, 'findings').slice(-MAX_FINDINGS);
  setProcesses(need(s.processes, 'processes'));
  bufs = new Map();
  var list = need(s.buffers, 'buffers');
  for (var i = 0; i < list.length; i++) bufs.set(list[i].ino, rec(list[i]));
  findingsReset = true; newFindings = [];
  D.snapshots++; D.seq = S.seq;
  dirtyAll();
}
function applyDelta(d) {
  if (!d || typeof d.seq !== 'number') throw new Error('not a delta');
  if (d.seq <= S.seq) return;                 /* older than what we have (after a reload) */
  if (d.base !== S.seq) { resync(); return; }
  S.seq = d.seq; S.t = d.t; D.seq = S.seq;
  var i;
  if (d.heaps) { S.heaps = d.heaps; dirty.heaps = 1; dirty.timeline = 1; }
  if (d.areas) { S.areas = d.areas; dirty.areas = 1; }
  if (d.workload !== undefined) { S.workload = d.workload; dirty.workload = 1; }
  if (d.processes) {
    if (setProcesses(d.processes)) bufs.forEach(fillRec);
    dirty.view = 1;
  }
  if (d.buffers) {
    for (i = 0; i < d.buffers.length; i++) {
      var b = d.buffers[i], r = bufs.get(b.ino);
      if (r) { r.b = b; fillRec(r); } else bufs.set(b.ino, rec(b));
      if (b.ino === sel) dirty.detail = 1;
    }
    dirty.view = 1;
  }
  if (d.gone) {
    for (i = 0; i < d.gone.length; i++) { bufs.delete(d.gone[i]); if (d.gone[i] === sel) { dirty.detail = 1; dirty.areas = 1; } }
    dirty.view = 1;
  }
  if (d.findings && d.findings.length) {
    for (i = 0; i < d.findings.length; i++) { S.findings.push(d.findings[i]); newFindings.push(d.findings[i]); }
    if (S.findings.length > MAX_FINDINGS) S.findings.splice(0, S.findings.length - MAX_FINDINGS);
    if (newFindings.length > MAX_FINDINGS) newFindings.splice(0, newFindings.length - MAX_FINDINGS);
    dirty.findings = 1;
  }
  if (d.timeline && d.timeline.length) {
    for (i = 0; i < d.timeline.length; i++) S.timeline.push(d.timeline[i]);
    if (S.timeline.length > MAX_POINTS) S.timeline.splice(0, S.timeline.length - MAX_POINTS);
    dirty.timeline = 1;
  }
  dirty.status = 1;
}

/* ---- the connection ---- */
var pendingMs = 0, pendingUpdates = 0, resyncing = false, es = null, frameAsked = false;
function conn(text, cls) { var c = $('conn'); setText(c, text); c.className = cls || ''; }
function measured(fn) {
  var t0 = performance.now();
  try { fn(); } catch (e) { conn('bad data from the server: ' + e.message, 'down'); }
  pendingMs += performance.now() - t0; pendingUpdates++; D.updates++;
  ask();
}
function resync() {
  if (resyncing) return;
  resyncing = true; D.resyncs++;
  conn('catching up…', 'live');
  fetch(api('/api/snapshot'), { cache: 'no-store' }).then(function (r) {
    if (!r.ok) throw new Error('GET /api/snapshot: HTTP ' + r.status);
    return r.text();
  }).then(function (text) {
    measured(function () { applySnapshot(JSON.parse(text)); });
    conn('live', 'live');
  }).catch(function (e) { conn('cannot reload the state (' + e.message + '); waiting for the server', 'down'); })
    .then(function () { resyncing = false; });
}
function connect() {
  es = new EventSource(api('/api/events'));
  es.addEventListener('snapshot', function (e) { measured(function () { applySnapshot(JSON.parse(e.data)); }); });
  es.addEventListener('delta', function (e) { if (resyncing) return; measured(function () { applyDelta(JSON.parse(e.data)); }); });
  es.onopen = function () { conn('live', 'live'); };
  es.onerror = function () {
    if (es.readyState === 2) { conn('disconnected; retrying in 3 s', 'down'); setTimeout(connect, 3000); }
    else conn('reconnecting… (is dmaheap dashboard still running?)', 'down');
  };
}

/* ---- drawing, once per frame ---- */
function ask() { if (!frameAsked) { frameAsked = true; requestAnimationFrame(frame); } }
/* What the user did is drawn at once (one render per event), not on the next frame. */
function now() { frame(); }
function frame() {
  frameAsked = false;
  if (!S.source) return;
  var t0 = performance.now();
  render();
  if (pendingUpdates > 0) {
    var ms = pendingMs + (performance.now() - t0);
    D.lastApplyMs = ms; if (ms > D.maxApplyMs) D.maxApplyMs = ms;
    D.applyMs.push(Math.round(ms * 1000) / 1000);
    if (D.applyMs.length > 2000) D.applyMs.splice(0, D.applyMs.length - 2000);
    D.frames++;
  }
  pendingMs = 0; pendingUpdates = 0;
}
function render() {
  if (dirty.source) renderSource();
  if (dirty.workload || dirty.source) renderWorkload();
  if (dirty.heaps) renderHeaps();
  if (dirty.view) computeView();
  if (dirty.view || dirty.rows) renderRows();
  if (dirty.areas) renderAreas();
  if (dirty.detail) renderDetail();
  if (dirty.procs) renderProcs();
  if (dirty.findings) renderFindings();
  if (dirty.timeline) renderTimeline();
  dirty = {};
}

function renderSource() {
  var s = S.source; if (!s) return;
  var kinds = { emulated: 'emulated', run: 'dmaheap run', linux: 'this machine' };
  setText($('source-kind'), kinds[s.kind] || String(s.kind));
  setText($('source-label'), String(s.label));
  document.title = 'dmaheap dashboard: ' + s.label;
  $('readonly').hidden = !s.readOnly;
  $('controls').hidden = !!s.readOnly;
  var ul = $('cannot-read'), reasons = Array.isArray(s.cannotRead) ? s.cannotRead : [];
  ul.textContent = '';
  for (var i = 0; i < reasons.length; i++) ul.appendChild(el('li', null, 'cannot read ' + reasons[i]));
  ul.hidden = reasons.length === 0;
}

function renderWorkload() {
  var w = S.workload, line = $('workload'), form = $('wl-form');
  line.hidden = !w; form.hidden = !w;
  if (!w) return;
  var text = 'workload ' + w.name + ': ' + clock(w.now / 1000) + ' of ' + clock(w.duration / 1000) + (w.paused ? ' (paused)' : '') + ', ' + int(w.failures) + ' failed allocation' + (w.failures === 1 ? '' : 's');
  setText(line, text);
  setText($('wl-name'), text);
  setText($('wl-pause'), w.paused ? 'Resume' : 'Pause');
  $('wl-step').disabled = !w.paused;
  $('wl-step').title = w.paused ? '' : 'pause the workload first';
}

/* heaps: one row per heap, rebuilt only when the names change */
var heapRows = new Map(), heapNamesKey = null;
function renderHeaps() {
  var tb = $('heaps').tBodies[0], names = S.heaps.map(function (h) { return h.name; }), key = names.join('\u0000');
  if (key !== heapNamesKey) {
    heapNamesKey = key; tb.textContent = ''; heapRows = new Map();
    var selh = $('alloc-heap'), keep = selh.value;
    selh.textContent = '';
    S.heaps.forEach(function (h) {
      var tr = el('tr'); tr.dataset.heap = h.name;
      var c = { name: el('td', 'h-name', h.name), kind: el('td', 'h-kind'), props: el('td', 'h-props props'), use: el('td', 'h-use num'), bar: el('td') };
      c.barBox = el('div', 'bar'); c.fill = el('div', 'fill'); c.barBox.appendChild(c.fill); c.bar.appendChild(c.barBox);
      tr.appendChild(c.name); tr.appendChild(c.kind); tr.appendChild(c.props); tr.appendChild(c.use); tr.appendChild(c.bar);
      tb.appendChild(tr); heapRows.set(h.name, c);
      var o = el('option', null, h.name); o.value = h.name; selh.appendChild(o);
    });
    if (names.indexOf(keep) >= 0) selh.value = keep;
  }
  setText($('heap-count'), String(S.heaps.length));
  S.heaps.forEach(function (h) {
    var c = heapRows.get(h.name); if (!c) return;
    setText(c.kind, h.kind == null ? 'unknown' : h.kind);
    var props = [tri(h.contiguous, 'contiguous', 'scattered'), tri(h.cached, 'cached', 'uncached')];
    if (h.protected !== false) props.push(tri(h.protected, 'protected', ''));
    if (h.area) props.push('area ' + h.area);
    var pk = props.join('|');
    if (c.props._t !== pk) { c.props.textContent = ''; props.forEach(function (p) { c.props.appendChild(el('span', null, p)); }); c.props._t = pk; }
    var use = h.used == null ? 'unknown' : h.capacity == null ? bytes(h.used) : bytes(h.used) + ' of ' + bytes(h.capacity) + ' (' + (h.capacity > 0 ? (100 * h.used / h.capacity).toFixed(1) : '0') + '%)';
    setText(c.use, use);
    var frac = h.used != null && h.capacity ? Math.min(1, h.used / h.capacity) : 0;
    c.barBox.hidden = h.capacity == null || h.used == null;
    c.barBox.className = 'bar' + (frac > 0.95 ? ' full' : frac > 0.8 ? ' warn' : '');
    c.fill.style.width = (frac * 100).toFixed(2) + '%';
    c.barBox.title = h.capacity == null ? 'capacity unknown' : use;
  });
}

/* ---- CMA maps ---- */
var FREE = '#e8ecef', UNKNOWN = '#9a9a9a', PINNED = '#3a3a3a', HL = '#ffd400', GAP = '#ffffff';
var MAX_CELLS = 8192, colourCache = new Map(), hatch = null;
function ownerColour(ino) {
  var c = colourCache.get(ino); if (c) return c;
  var h = Math.imul(ino | 0, 2654435761) >>> 0;
  h ^= h >>> 15; h = Math.imul(h, 2246822519) >>> 0; h ^= h >>> 13;
  c = 'hsl(' + (h % 360) + ',' + (55 + (h >>> 9) % 30) + '%,' + (42 + (h >>> 17) % 18) + '%)';
  if (colourCache.size > 50000) colourCache.clear();
  colourCache.set(ino, c); return c;
}
function hatchPattern(ctx) {
  if (hatch) return hatch;
  var c = document.createElement('canvas'); c.width = 6; c.height = 6;
  var x = c.getContext('2d'); x.fillStyle = PINNED; x.fillRect(0, 0, 6, 6);
  x.strokeStyle = '#777'; x.lineWidth = 1; x.beginPath(); x.moveTo(0, 6); x.lineTo(6, 0); x.stroke();
  hatch = ctx.createPattern(c, 'repeat'); return hatch;
}
var areaEls = new Map(), areaNamesKey = null;
function areaLayout(pages) {
  var ppc = Math.max(1, Math.ceil(pages / MAX_CELLS)), cells = Math.max(1, Math.ceil(pages / ppc));
  var cols = cells <= 1024 ? 64 : 128, px = cols === 64 ? 8 : 4, rows = Math.ceil(cells / cols);
  return { ppc: ppc, cells: cells, cols: cols, px: px, rows: rows };
}
function renderAreas() {
  var box = $('areas'), key = S.areas.map(function (a) { return a.name + '/' + a.pages; }).join('\u0000');
  if (key !== areaNamesKey) {
    areaNamesKey = key; box.textContent = ''; areaEls = new Map();
    S.areas.forEach(function (a) {
      var e = { root: el('div', 'area'), title: el('h3', null, a.name), meta: el('div', 'meta'), canvas: el('canvas'), info: el('div', 'a-info') };
      e.root.dataset.area = a.name;
      e.free = el('span', 'a-free'); e.largest = el('span', 'a-largest'); e.total = el('span', 'a-total');
      e.meta.appendChild(e.total); e.meta.appendChild(document.createTextNode(' · free ')); e.meta.appendChild(e.free);
      e.meta.appendChild(document.createTextNode(' · largest free run ')); e.meta.appendChild(e.largest);
      e.root.appendChild(e.title); e.root.appendChild(e.meta); e.root.appendChild(e.canvas); e.root.appendChild(e.info);
      e.canvas.setAttribute('role', 'img');
      e.canvas.addEventListener('mousemove', function (ev) { hoverCell(e, ev); });
      e.canvas.addEventListener('mouseleave', function () { setText(e.info, e.hl || ''); });
      e.canvas.addEventListener('click', function (ev) { var o = cellAt(e, ev); if (o && o.owner > 0) select(o.owner, true); });
      box.appendChild(e.root); areaEls.set(a.name, e);
    });
  }
  setText($('area-count'), S.areas.length ? String(S.areas.length) : 'none');
  if (!S.areas.length) setText(box, 'This machine has no CMA area the dashboard can read.');
  S.areas.forEach(function (a) { var e = areaEls.get(a.name); if (e) drawArea(a, e); });
}
function drawArea(a, e) {
  var L = areaLayout(a.pages), dpr = window.devicePixelRatio || 1;
  e.area = a; e.L = L;
  setText(e.total, int(a.pages) + ' pages of ' + bytes(a.pageSize) + ' (' + bytes(a.pages * a.pageSize) + ') at pfn 0x' + Number(a.basePfn).toString(16) + (L.ppc > 1 ? ', ' + L.ppc + ' pages a cell' : ''));
  setText(e.free, int(a.freePages) + ' pages (' + bytes(a.freePages * a.pageSize) + ')');
  setText(e.largest, int(a.largestFreeRun) + ' pages (' + bytes(a.largestFreeRun * a.pageSize) + ')');
  var w = L.cols * L.px, h = L.rows * L.px, cv = e.canvas;
  if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
    cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); cv.style.width = w + 'px'; cv.style.height = h + 'px';
  }
  cv.dataset.cols = String(L.cols); cv.dataset.cell = String(L.px); cv.dataset.ppc = String(L.ppc);
  var runs = Array.isArray(a.runs) ? a.runs : [], r = sel == null ? null : bufs.get(sel), cm = r && r.b.cma;
  var key = w + 'x' + h + '@' + dpr + (cm && cm.area === a.name ? ':' + cm.page + '+' + cm.pages + '/' + sel : '');
  if (key === e.key && sameRuns(runs, e.runs)) return;   /* nothing to redraw */
  e.key = key; e.runs = runs;
  /* the owner of each cell: the owner of most of its pages */
  var own = e.own && e.own.length === L.cells ? e.own : new Float64Array(L.cells), n = new Float64Array(L.cells);
  own.fill(0);
  for (var i = 0; i + 2 < runs.length; i += 3) {
    var p = Math.max(0, runs[i]), end = Math.min(a.pages, runs[i] + runs[i + 1]), owner = runs[i + 2];
    if (!(end > p)) continue;
    while (p < end) {
      var c = Math.floor(p / L.ppc), ce = Math.min(end, (c + 1) * L.ppc), k = ce - p;
      if (k > n[c]) { n[c] = k; own[c] = owner; }
      p = ce;
    }
  }
  e.own = own;
  var ctx = cv.getContext('2d'); ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = GAP; ctx.fillRect(0, 0, w, h);
  var gap = L.px >= 6 ? 1 : 0, s = L.px - gap, last = NaN;
  /* one rectangle per stretch of cells of one owner in a row (cells apart when they have a gap) */
  for (c = 0; c < L.cells;) {
    var o = own[c], run = 1;
    if (gap === 0) while (c + run < L.cells && own[c + run] === o && (c + run) % L.cols !== 0) run++;
    if (o !== last) { ctx.fillStyle = o === 0 ? FREE : o === -1 ? UNKNOWN : o === -2 ? hatchPattern(ctx) : o > 0 ? ownerColour(o) : UNKNOWN; last = o; }
    ctx.fillRect((c % L.cols) * L.px, Math.floor(c / L.cols) * L.px, run * L.px - gap, s);
    c += run;
  }
  /* the selected buffer: its cells framed in yellow */
  e.hl = '';
  if (cm && cm.area === a.name && cm.pages > 0) {
    var c0 = Math.floor(cm.page / L.ppc), c1 = Math.min(L.cells - 1, Math.floor((cm.page + cm.pages - 1) / L.ppc));
    /* an outline around the range: a yellow edge on each side of a cell whose neighbour is outside it */
    var edge = s >= 4 ? 2 : 1;
    ctx.fillStyle = HL;
    for (c = c0; c <= c1; c++) {
      var x = (c % L.cols) * L.px, y = Math.floor(c / L.cols) * L.px, col = c % L.cols;
      if (c - L.cols < c0) ctx.fillRect(x, y, s, edge);
      if (c + L.cols > c1) ctx.fillRect(x, y + s - edge, s, edge);
      if (col === 0 || c - 1 < c0) ctx.fillRect(x, y, edge, s);
      if (col === L.cols - 1 || c + 1 > c1) ctx.fillRect(x + s - edge, y, edge, s);
    }
    cv.dataset.highlight = cm.page + '-' + (cm.page + cm.pages - 1);
    cv.dataset.highlightCells = c0 + '-' + c1;
    e.hl = 'buffer ' + sel + ': pages ' + int(cm.page) + '–' + int(cm.page + cm.pages - 1) + ' (pfn 0x' + (a.basePfn + cm.page).toString(16) + ')';
  } else { delete cv.dataset.highlight; delete cv.dataset.highlightCells; }
  setText(e.info, e.hl);
  cv.setAttribute('aria-label', 'page map of ' + a.name + ': ' + int(a.freePages) + ' of ' + int(a.pages) + ' pages free' + (e.hl ? '; ' + e.hl : ''));
}
function sameRuns(a, b) {
  if (!b || a.length !== b.length) return false;
  for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function cellAt(e, ev) {
  if (!e.L) return null;
  var b = e.canvas.getBoundingClientRect(), L = e.L;
  var x = ev.clientX - b.left - e.canvas.clientLeft, y = ev.clientY - b.top - e.canvas.clientTop;
  if (x < 0 || y < 0 || x >= L.cols * L.px) return null;
  var c = Math.floor(y / L.px) * L.cols + Math.floor(x / L.px);
  if (c >= L.cells) return null;
  return { cell: c, page: c * L.ppc, owner: e.own[c] };
}
function hoverCell(e, ev) {
  var o = cellAt(e, ev); if (!o) return;
  var who = o.owner === 0 ? 'free' : o.owner === -1 ? 'allocated, owner unknown' : o.owner === -2 ? 'pinned' : 'buffer ' + o.owner;
  var r = o.owner > 0 ? bufs.get(o.owner) : null;
  if (r && r.name) who += ' "' + r.name + '"';
  if (r) who += ' (' + r.exporter + ', ' + r.sizeText + '); click to select';
  setText(e.info, 'page ' + int(o.page) + (e.L.ppc > 1 ? '–' + int(Math.min(e.area.pages, o.page + e.L.ppc) - 1) : '') + ' (pfn 0x' + (e.area.basePfn + o.page).toString(16) + '): ' + who);
}

/* ---- the buffer table: virtualised ---- */
var ROW_H = 24, pool = [];
function cmpBy(key, dir) {
  return function (a, b) {
    var x = a[key], y = b[key];
    var c = typeof x === 'number' ? x - y : x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * dir : a.ino - b.ino;
  };
}
var SORT_KEYS = { ino: 'ino', size: 'size', name: 'name', exporter: 'exporter', procs: 'procs', imps: 'imps', maps: 'maps' };
function computeView() {
  var out = [], f = filterText, pid = procSel, set = procInos;
  bufs.forEach(function (r) {
    if (pid != null && !((set && set.has(r.ino)) || r.pids.indexOf(pid) >= 0)) return;
    if (f && r.search.indexOf(f) < 0) return;
    out.push(r);
  });
  out.sort(cmpBy(SORT_KEYS[sortKey] || 'ino', sortDir));
  view = out;
  var total = bufs.size;
  setText($('buf-count'), (out.length === total ? int(total) : int(out.length) + ' of ' + int(total)) + ' buffer' + (total === 1 ? '' : 's'));
  dirty.rows = 1;
}
function makeRow() {
  var row = el('div', 'row'); row.setAttribute('role', 'row');
  row.cells_ = ['num c-ino', 'num c-size', 'c-name', 'c-exporter', 'c-procs', 'c-imps', 'num c-maps'].map(function (c) { var s = el('span', c); s.setAttribute('role', 'gridcell'); row.appendChild(s); return s; });
  $('buf-rows').appendChild(row); pool.push(row); return row;
}
var MAX_H = 360;
function renderRows() {
  var sc = $('buf-scroll'), want = Math.ceil(MAX_H / ROW_H) + 2;
  while (pool.length < want) makeRow();
  var spacer = $('buf-spacer'), sh = view.length * ROW_H + 'px', h = Math.min(MAX_H, Math.max(1, view.length) * ROW_H) + 'px';
  if (spacer.style.height !== sh) spacer.style.height = sh;
  if (sc.style.height !== h) sc.style.height = h;
  var first = Math.max(0, Math.min(Math.floor(sc.scrollTop / ROW_H), view.length - want + 2));
  $('buf-rows').style.transform = 'translateY(' + first * ROW_H + 'px)';
  for (var i = 0; i < pool.length; i++) {
    var row = pool[i], r = view[first + i];
    if (!r || i >= want) { if (!row.hidden) row.hidden = true; continue; }
    if (row.hidden) row.hidden = false;
    if (row._ino !== r.ino) { row._ino = r.ino; row.dataset.ino = String(r.ino); }
    var c = row.cells_;
    setText(c[0], String(r.ino)); setText(c[1], r.sizeText); setText(c[2], r.name); setText(c[3], r.exporter);
    setText(c[4], r.procs); setText(c[5], r.imps); setText(c[6], String(r.maps));
    var s = r.ino === sel ? 'true' : 'false';
    if (row.getAttribute('aria-selected') !== s) row.setAttribute('aria-selected', s);
    var t = r.b.name == null ? '' : r.name;
    if (c[2].title !== t) c[2].title = t;
  }
  $('buf-scroll').setAttribute('aria-rowcount', String(view.length));
}
function renderSortHeads(root, key, dir) {
  var hs = root.querySelectorAll('[data-key]');
  for (var i = 0; i < hs.length; i++) {
    var h = hs[i]; if (h.tagName === 'BUTTON') continue;
    if (h.dataset.key === key) h.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); else h.removeAttribute('aria-sort');
  }
}

function select(ino, scroll) {
  sel = ino; dirty.rows = 1; dirty.detail = 1; dirty.areas = 1;
  $('free-btn').disabled = ino == null;
  setText($('free-btn'), ino == null ? 'Free selected buffer' : 'Free buffer ' + ino);
  if (scroll) {
    var i = view.findIndex(function (r) { return r.ino === ino; });
    if (i >= 0) showIndex(i);
  }
  now();
}
function showIndex(i) {
  var sc = $('buf-scroll');
  if (i * ROW_H < sc.scrollTop) sc.scrollTop = i * ROW_H;
  else if ((i + 1) * ROW_H > sc.scrollTop + sc.clientHeight) sc.scrollTop = (i + 1) * ROW_H - sc.clientHeight;
}

function renderDetail() {
  var title = $('d-title'), body = $('d-body');
  var r = sel == null ? null : bufs.get(sel);
  if (sel == null) { setText(title, 'none selected: click a buffer or a page'); body.hidden = true; return; }
  if (!r) { setText(title, sel + ': gone (freed)'); body.hidden = true; return; }
  var b = r.b;
  setText(title, 'inode ' + b.ino + (b.name ? ' "' + b.name + '"' : ''));
  body.hidden = false;
  var dl = $('d-props'); dl.textContent = '';
  function prop(k, v) { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); }
  prop('size', bytes(b.size) + ' (' + int(b.size) + ' bytes)');
  prop('exporter', b.exporter);
  prop('name', b.name == null ? '(none)' : b.name);
  prop('file references', b.count == null ? 'unknown' : int(b.count));
  if (b.cma) prop('pages', 'CMA area ' + b.cma.area + ', pages ' + int(b.cma.page) + '–' + int(b.cma.page + b.cma.pages - 1) + ' (' + int(b.cma.pages) + ')');
  else prop('pages', 'not in a CMA area');
  var ul = $('d-importers'); ul.textContent = '';
  (b.importers || []).forEach(function (m) { ul.appendChild(el('li', null, m.device + (m.mapped === null ? ': attached' : m.mapped ? ': mapped' : ': attached, not mapped'))); });
  if (!ul.firstChild) ul.appendChild(el('li', 'muted', 'no device has it attached'));
  var tb = $('d-refs').tBodies[0]; tb.textContent = '';
  (b.refs || []).forEach(function (ref) {
    var p = procByPid.get(ref.pid), tr = el('tr');
    tr.appendChild(el('td', 'num', String(ref.pid))); tr.appendChild(el('td', null, p ? p.comm : '?'));
    tr.appendChild(el('td', 'num', String(ref.fds))); tr.appendChild(el('td', 'num', String(ref.maps)));
    tb.appendChild(tr);
  });
  if (!tb.firstChild) { var tr = el('tr'), td = el('td', 'muted', 'no process holds it'); td.colSpan = 4; tr.appendChild(td); tb.appendChild(tr); }
}

/* ---- processes ---- */
var procRows = new Map(), procOrder = '';
function renderProcs() {
  var tb = $('procs').tBodies[0], list = S.processes.slice();
  var k = psortKey;
  list.sort(function (a, b) {
    var x = k === 'nbuf' ? a.buffers.length : a[k], y = k === 'nbuf' ? b.buffers.length : b[k];
    var c = typeof x === 'number' ? x - y : x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * psortDir : a.pid - b.pid;
  });
  var seen = new Set();
  list.forEach(function (p) {
    seen.add(p.pid);
    var c = procRows.get(p.pid);
    if (!c) {
      var tr = el('tr'); tr.tabIndex = 0; tr.dataset.pid = String(p.pid);
      c = { tr: tr, pid: el('td', 'num'), comm: el('td'), rss: el('td', 'num'), pss: el('td', 'num'), n: el('td', 'num') };
      tr.appendChild(c.pid); tr.appendChild(c.comm); tr.appendChild(c.rss); tr.appendChild(c.pss); tr.appendChild(c.n);
      procRows.set(p.pid, c);
    }
    setText(c.pid, String(p.pid)); setText(c.comm, p.comm); setText(c.rss, bytes(p.rss)); setText(c.pss, bytes(p.pss)); setText(c.n, int(p.buffers.length));
    var s = p.pid === procSel ? 'true' : 'false';
    if (c.tr.getAttribute('aria-selected') !== s) c.tr.setAttribute('aria-selected', s);
  });
  procRows.forEach(function (c, pid) { if (!seen.has(pid)) { c.tr.remove(); procRows.delete(pid); } });
  var order = list.map(function (p) { return p.pid; }).join(',');
  if (order !== procOrder) { procOrder = order; list.forEach(function (p) { tb.appendChild(procRows.get(p.pid).tr); }); }
  setText($('proc-count'), String(list.length));
  var chip = $('proc-chip');
  if (procSel == null) chip.hidden = true;
  else {
    var p = procByPid.get(procSel);
    chip.hidden = false;
    setText($('proc-chip-text'), 'process ' + procSel + (p ? ' (' + p.comm + ')' : ' (exited)'));
  }
}
function pickProcess(pid) {
  procSel = procSel === pid ? null : pid;
  updateProcInos();
  dirty.procs = 1; dirty.view = 1; $('buf-scroll').scrollTop = 0;
  now();
}

/* ---- findings ---- */
function findingEl(f) {
  var li = el('li', String(f.severity).toLowerCase()); li.dataset.id = String(f.id);
  li.appendChild(el('span', 'sev', f.severity + ' ' + f.kind));
  li.appendChild(el('span', 'when muted', '+' + clock(f.t) + ' '));
  li.appendChild(document.createTextNode(f.text));
  return li;
}
function renderFindings() {
  var ul = $('findings');
  if (findingsReset) {
    ul.textContent = '';
    for (var i = S.findings.length - 1; i >= 0; i--) ul.appendChild(findingEl(S.findings[i]));
    findingsReset = false;
  } else {
    for (var j = 0; j < newFindings.length; j++) ul.insertBefore(findingEl(newFindings[j]), ul.firstChild);
    while (ul.children.length > MAX_FINDINGS) ul.removeChild(ul.lastChild);
  }
  newFindings = [];
  if (!ul.firstChild) ul.appendChild(el('li', 'none muted', 'none yet'));
  else if (ul.lastChild.className === 'none muted' && ul.children.length > 1) ul.removeChild(ul.lastChild);
  setText($('finding-count'), String(S.findings.length));
}

/* ---- timeline ---- */
var PALETTE = ['#0b62c4', '#d1242f', '#1a7f37', '#8250df', '#bc4c00', '#1b7c83', '#bf3989', '#6e7781'];
var WINDOW_MS = 5 * 60 * 1000;
function renderTimeline() {
  var cv = $('timeline'), dpr = window.devicePixelRatio || 1, w = cv.clientWidth || 400, h = cv.clientHeight || 170;
  if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); }
  var ctx = cv.getContext('2d'); ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, w, h);
  var pts = S.timeline, names = S.heaps.map(function (x) { return x.name; });
  var tEnd = pts.length ? pts[pts.length - 1].t : S.t, tStart = tEnd - WINDOW_MS;
  var first = 0; while (first < pts.length && pts[first].t < tStart) first++;
  var max = 1, i, j;
  for (i = first; i < pts.length; i++) for (j = 0; j < names.length; j++) { var v = pts[i].heaps[names[j]]; if (v > max) max = v; }
  var ML = 62, MR = 8, MT = 8, MB = 18, PW = w - ML - MR, PH = h - MT - MB;
  ctx.strokeStyle = '#d8dee4'; ctx.fillStyle = '#5d6974'; ctx.font = '11px system-ui,sans-serif'; ctx.lineWidth = 1;
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (i = 0; i <= 2; i++) {
    var y = MT + PH - (PH * i) / 2;
    ctx.beginPath(); ctx.moveTo(ML, Math.round(y) + 0.5); ctx.lineTo(ML + PW, Math.round(y) + 0.5); ctx.stroke();
    ctx.fillText(bytes(Math.round((max * i) / 2)), ML - 4, y);
  }
  ctx.textBaseline = 'top';
  for (i = 0; i <= 5; i++) { ctx.textAlign = i === 0 ? 'left' : i === 5 ? 'right' : 'center'; ctx.fillText(i === 5 ? 'now' : '-' + (5 - i) + ' min', ML + (PW * i) / 5, MT + PH + 3); }
  var legend = $('timeline-legend'), lk = names.join('\u0000');
  if (legend._k !== lk) {
    legend._k = lk; legend.textContent = '';
    names.forEach(function (n, k) { var s = el('span'), sw = el('i'); sw.style.background = PALETTE[k % PALETTE.length]; s.appendChild(sw); s.appendChild(el('span', 'lg-name', n)); s.appendChild(el('span', 'lg-val muted')); legend.appendChild(s); });
  }
  var vals = legend.querySelectorAll('.lg-val');
  names.forEach(function (n, k) {
    ctx.strokeStyle = PALETTE[k % PALETTE.length]; ctx.lineWidth = 1.5; ctx.beginPath();
    var started = false;
    for (var q = first; q < pts.length; q++) {
      var val = pts[q].heaps[n]; if (val == null) { started = false; continue; }
      var x = ML + ((pts[q].t - tStart) / WINDOW_MS) * PW, yy = MT + PH - (val / max) * PH;
      if (started) ctx.lineTo(x, yy); else { ctx.moveTo(x, yy); started = true; }
    }
    ctx.stroke();
    var last = pts.length ? pts[pts.length - 1].heaps[n] : undefined;
    if (vals[k]) setText(vals[k], ' ' + (last == null ? '—' : bytes(last)));
  });
  cv.dataset.points = String(pts.length - first);
  setText($('timeline-span'), pts.length ? 'last ' + clock(Math.min(WINDOW_MS, tEnd - pts[first].t)) + ' (min:s)' : 'no points yet');
}

/* ---- controls ---- */
function msg(text, ok) { var m = $('ctl-msg'); m.textContent = text; m.className = ok ? 'ok' : 'err'; }
function post(path, body, done) {
  msg('sending…', true);
  fetch(api(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then(function (r) {
      return r.text().then(function (t) {
        var j = null; try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
        if (!r.ok || (j && j.error)) {
          var er = j && j.error;
          msg(er ? er.message + (er.hint ? ' (' + er.hint + ')' : '') : path + ' was refused: HTTP ' + r.status + (t ? ': ' + t.slice(0, 200) : ''), false);
        } else msg(done(j || {}), true);
      });
    })
    .catch(function (e) { msg('cannot reach the dashboard server (' + e.message + '); is dmaheap dashboard still running?', false); });
}
function parseSize(t) {
  var m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(t);
  if (!m) return null;
  var v = parseFloat(m[1]) * Math.pow(1024, ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

/* ---- events ---- */
function on(id, ev, fn) { $(id).addEventListener(ev, fn); }
on('alloc-form', 'submit', function (ev) {
  ev.preventDefault();
  var size = parseSize($('alloc-size').value);
  if (size == null) { msg('size "' + $('alloc-size').value + '" is not a size: give bytes, or a number with K, M or G (4096, 64K, 1.5M)', false); return; }
  var body = { heap: $('alloc-heap').value, size: size }, name = $('alloc-name').value;
  if (name) body.name = name;
  post('/api/alloc', body, function (j) {
    if (typeof j.ino === 'number') { select(j.ino, false); return 'allocated buffer ' + j.ino + ' (' + bytes(size) + ' from ' + body.heap + ')'; }
    return 'allocated ' + bytes(size) + ' from ' + body.heap;
  });
});
on('free-btn', 'click', function () {
  if (sel == null) return;
  var ino = sel;
  post('/api/free', { ino: ino }, function () { return 'freed buffer ' + ino; });
});
on('fault-form', 'submit', function (ev) {
  ev.preventDefault();
  var spec = $('fault-spec').value.trim();
  if (!spec) { msg('type a fault spec, as for --fault (alloc:nth=1, shrink-cma:size=4M, pin:pages=16, ...)', false); return; }
  post('/api/fault', { spec: spec }, function () { return 'fault injected: ' + spec; });
});
on('wl-pause', 'click', function () {
  var paused = S.workload && S.workload.paused;
  post(paused ? '/api/workload/resume' : '/api/workload/pause', {}, function () { return paused ? 'resumed' : 'paused'; });
});
on('wl-form', 'submit', function (ev) {
  ev.preventDefault();
  var t = $('wl-step-us').value.trim(), us = Number(t);
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(us) || us <= 0) { msg('step "' + t + '" is not a whole number of microseconds above 0', false); return; }
  post('/api/workload/step', { us: us }, function () { return 'stepped ' + int(us) + ' µs'; });
});
on('buf-filter', 'input', function () { filterText = $('buf-filter').value.trim().toLowerCase(); dirty.view = 1; $('buf-scroll').scrollTop = 0; now(); });
on('proc-clear', 'click', function () { if (procSel != null) pickProcess(procSel); });
on('buf-head', 'click', function (ev) {
  var k = ev.target.closest && ev.target.closest('button[data-key]'); if (!k) return;
  var key = k.dataset.key;
  if (key === sortKey) sortDir = -sortDir; else { sortKey = key; sortDir = key === 'size' || key === 'maps' ? -1 : 1; }
  renderSortHeads($('buf-head'), sortKey, sortDir); dirty.view = 1; now();
});
on('procs', 'click', function (ev) {
  var b = ev.target.closest('button[data-key]');
  if (b) {
    var key = b.dataset.key;
    if (key === psortKey) psortDir = -psortDir; else { psortKey = key; psortDir = key === 'pid' || key === 'comm' ? 1 : -1; }
    renderSortHeads($('procs'), psortKey, psortDir); dirty.procs = 1; now(); return;
  }
  var tr = ev.target.closest('tr[data-pid]'); if (tr) pickProcess(Number(tr.dataset.pid));
});
on('procs', 'keydown', function (ev) {
  var tr = ev.target.closest && ev.target.closest('tr[data-pid]');
  if (!tr) return;
  if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pickProcess(Number(tr.dataset.pid)); }
  else if (ev.key === 'ArrowDown' && tr.nextElementSibling) { ev.preventDefault(); tr.nextElementSibling.focus(); }
  else if (ev.key === 'ArrowUp' && tr.previousElementSibling) { ev.preventDefault(); tr.previousElementSibling.focus(); }
});
on('buf-rows', 'click', function (ev) { var row = ev.target.closest('.row[data-ino]'); if (row) { select(Number(row.dataset.ino), false); $('buf-scroll').focus({ preventScroll: true }); } });
on('buf-scroll', 'scroll', function () { dirty.rows = 1; ask(); });
on('buf-scroll', 'keydown', function (ev) {
  var n = view.length; if (!n) return;
  var i = sel == null ? -1 : view.findIndex(function (r) { return r.ino === sel; });
  var page = Math.max(1, Math.floor($('buf-scroll').clientHeight / ROW_H) - 1), to;
  switch (ev.key) {
    case 'ArrowDown': to = i + 1; break;
    case 'ArrowUp': to = i < 0 ? 0 : i - 1; break;
    case 'PageDown': to = i + page; break;
    case 'PageUp': to = i - page; break;
    case 'Home': to = 0; break;
    case 'End': to = n - 1; break;
    case 'Escape': ev.preventDefault(); select(null, false); return;
    default: return;
  }
  ev.preventDefault();
  to = Math.max(0, Math.min(n - 1, to));
  showIndex(to); select(view[to].ino, false);
});
window.addEventListener('resize', function () { dirty.rows = 1; dirty.timeline = 1; ask(); });
renderSortHeads($('buf-head'), sortKey, sortDir);
renderSortHeads($('procs'), psortKey, psortDir);
connect();
})();
`;

/** The page, whole. */
export const PAGE_HTML: string =
  '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
  `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">\n` +
  '<link rel="icon" href="data:,">\n<title>dmaheap dashboard</title>\n' +
  `<style>${STYLE}</style>\n</head>\n<body>${BODY}<script>${SCRIPT}</script>\n</body>\n</html>\n`;
