// app.js - the lstmsweep dashboard: plain ES module, no framework.  Views by
// the URL's hash: #/ (sweeps), #/sweep/NAME, #/job/ID, #/node.  Data from
// the server's JSON API (the HttpOnly cookie authenticates it); live through
// /api/v1/events (EventSource reconnects by itself and sends Last-Event-ID,
// so it catches up; a "lost" event or a reconnection refreshes the view).
import uPlot from "./vendor/uPlot.esm.js";

const $view = document.getElementById("view");
const $live = document.getElementById("live");
let csrf = null;
let current = null;          // the view on screen: {refresh(), onEvent(type, data), stop()}

// ---- the API -------------------------------------------------------------

async function session() {
  const r = await fetch("/api/v1/session", { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/"; throw new Error("signed out"); }
  csrf = (await r.json()).csrf;
}

async function get(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/"; throw new Error("signed out"); }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// A state change: the cookie authenticates it, the CSRF header proves the
// request comes from this page (a server restart makes a new value: fetch it
// again once).
async function post(path, retried) {
  if (!csrf) await session();
  const r = await fetch(path, { method: "POST", credentials: "same-origin",
                                headers: { "X-Lstmsweep-CSRF": csrf } });
  if (r.status === 403 && !retried) { csrf = null; return post(path, true); }
  if (r.status === 401) { location.href = "/"; return null; }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// ---- small helpers ---------------------------------------------------------

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false)
    e.append(k instanceof Node ? k : String(k));
  return e;
}
const enc = encodeURIComponent;
const fmt = (x, d = 4) => x === null || x === undefined ? "–" :
  typeof x === "number" ? (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(d)))) :
  String(x);
function duration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
const bytes = (b) => b === null || b === undefined ? "–" :
  b >= 1 << 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`;
const badge = (s) => h("span", { class: `state state-${s}` }, s || "–");

// Run fn at most every ms milliseconds (the last call wins).
function throttle(fn, ms) {
  let timer = null, again = false;
  return function run() {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(() => { timer = null; if (again) { again = false; run(); } }, ms);
  };
}

function progress(sw) {
  const t = Math.max(1, sw.jobs.total), r = sw.results, j = sw.jobs;
  // an asha search's paused jobs are queued ones waiting at a rung
  const paused = r.paused || 0;
  const parts = [["ok", r.ok], ["stopped", r.stopped || 0], ["diverged", r.diverged],
                 ["failed", r.failed], ["running", j.running], ["paused", paused],
                 ["queued", j.queued - paused], ["cancelled", j.cancelled]];
  const label = parts.filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(", ") || "no jobs";
  return h("div", { class: "bar", role: "img", "aria-label": label, title: label },
           parts.filter(([, n]) => n).map(([k, n]) =>
             h("span", { class: `b-${k}`, style: `width:${(100 * n / t).toFixed(2)}%` })));
}

function sweepActions(sw, after) {
  const act = (what) => async () => {
    try { await post(`/api/v1/sweeps/${enc(sw.name)}/${what}`); after(); }
    catch (e) { alert(`${what}: ${e.message}`); }
  };
  const prio = h("input", { type: "number", value: sw.priority, "aria-label": `priority of ${sw.name}`,
                            step: 1 });
  const open = sw.state === "active" || sw.state === "paused";
  return h("div", { class: "actions" },
    sw.state === "active" ? h("button", { type: "button", onclick: act("pause") }, "Pause") : null,
    sw.state === "paused" ? h("button", { type: "button", onclick: act("resume") }, "Resume") : null,
    open ? h("button", { type: "button", onclick: act("cancel"), "data-action": "cancel" }, "Cancel") : null,
    open ? prio : null,
    open ? h("button", { type: "button", onclick: async () => {
      try { await post(`/api/v1/sweeps/${enc(sw.name)}/priority?value=${enc(prio.value)}`); after(); }
      catch (e) { alert(`priority: ${e.message}`); }
    } }, "Set priority") : null);
}

// ---- the sweeps ------------------------------------------------------------

function sweepsView() {
  const body = h("tbody");
  const table = h("table", { id: "sweeps" },
    h("thead", {}, h("tr", {}, ["Sweep", "State", "Priority", "Progress", "Jobs", "Core-hours",
                                "ETA", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
    body);
  $view.replaceChildren(h("h1", {}, "Sweeps"), table,
    h("p", { class: "legend" }, "Progress: ok, diverged, failed, running, queued, cancelled."));
  async function refresh() {
    const { sweeps } = await get("/api/v1/sweeps");
    body.replaceChildren(...(sweeps.length ? sweeps.map((sw) => h("tr", { "data-sweep": sw.name },
      h("td", {}, h("a", { href: `#/sweep/${enc(sw.name)}` }, sw.name)),
      h("td", {}, badge(sw.state)),
      h("td", { class: "num" }, sw.priority),
      h("td", {}, progress(sw)),
      h("td", { class: "num" }, `${sw.jobs.done + sw.jobs.cancelled} / ${sw.jobs.total}`),
      h("td", { class: "num" }, (sw.core_seconds / 3600).toFixed(3)),
      h("td", { class: "num" }, duration(sw.eta_seconds)),
      h("td", {}, sweepActions(sw, refresh)))) :
      [h("tr", {}, h("td", { colspan: 8 }, "No sweep yet: submit one (POST /api/v1/sweeps)."))]));
  }
  const r = throttle(() => refresh().catch(showError), 500);
  return { refresh: r, onEvent: r, ready: refresh() };
}

// ---- one sweep -------------------------------------------------------------

const ROW_H = 28, PAGE = 200;
const RESULT_COLS = ["val_error", "test_error", "epochs_run", "samples_per_s", "threads", "cpus",
                     "numa_node"];

function chart(el, title, opts, data) {
  const box = h("div", { class: "chart", "data-chart": title }, h("h3", {}, title));
  el.append(box);
  const u = new uPlot({ width: 520, height: 260, ...opts }, data, box);
  return u;
}

// Per layer count, the best (lowest) and mean values of y at each hidden size.
function byHidden(jobs, ykey, reduce) {
  const xs = [...new Set(jobs.map((j) => j.row.hidden))].sort((a, b) => a - b);
  const layers = [...new Set(jobs.map((j) => j.row.layers))].sort((a, b) => a - b);
  const ys = layers.map((L) => xs.map((x) => {
    const v = jobs.filter((j) => j.row.layers === L && j.row.hidden === x)
                  .map((j) => j.row[ykey]).filter((y) => y !== null && y !== undefined);
    return v.length ? reduce(v) : null;
  }));
  return { xs, layers, ys };
}

const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];

function sweepView(name) {
  const state = { sort: "pos", status: "", where: {}, params: {}, total: 0, pages: new Map(),
                  stale: new Map(), cols: [] };
  const head = h("div");
  const best = h("div");
  const charts = h("div", { class: "charts" });
  const filters = h("div", { class: "filters" });
  // The jobs grid: a header row, and a body whose spacer is as tall as all
  // the rows; only the rows in view exist, absolutely placed in it.
  const gh = h("div", { class: "gh", role: "rowgroup" });
  const gb = h("div", { class: "gb", tabindex: 0, role: "rowgroup" });
  const spacer = h("div", { class: "spacer" });
  gb.append(spacer);
  const count = h("p", { class: "note", id: "jobcount" });
  $view.replaceChildren(h("p", {}, h("a", { href: "#/" }, "← Sweeps")), head,
    h("h2", {}, "Best configurations"), best,
    h("h2", {}, "Charts"), charts,
    h("h2", {}, "Jobs"), filters, count,
    h("div", { class: "grid", role: "grid", "aria-label": `jobs of ${name}`, id: "jobs" }, gh, gb));

  // a column fits its header (and the sort arrow) and its values
  const widths = (c) => Math.round(Math.max(c === "id" ? 178 : c === "state" || c === "status" ? 100 : 64,
                                            c.length * 8.6 + 38));

  function columns() {
    const varying = Object.keys(state.params);
    return ["id", "state", "status", ...varying, ...RESULT_COLS.filter((c) => !varying.includes(c))];
  }

  function headerTable() {
    const cols = state.cols;
    const arrow = (c) => state.sort === c ? " ▲" : state.sort === `-${c}` ? " ▼" : "";
    const width = cols.reduce((a, c) => a + widths(c), 0);
    gh.replaceChildren(h("div", { class: "row head", role: "row", style: `width:${width}px` },
      cols.map((c) => h("div", {
        role: "columnheader", class: `c${isNum(c) ? " num" : ""}`, style: `width:${widths(c)}px`,
        "aria-sort": state.sort === c ? "ascending" : state.sort === `-${c}` ? "descending" : "none" },
        h("button", { type: "button", title: `sort by ${c}`, onclick: () => {
          state.sort = state.sort === c ? `-${c}` : c;
          reload();
        } }, c + arrow(c))))));
    spacer.style.width = `${width}px`;
    for (const el of live.values()) el.remove();
    live.clear();
    free.length = 0;
  }
  const isNum = (c) => RESULT_COLS.includes(c) && c !== "cpus" || c in state.params;

  function query(offset, limit) {
    const q = new URLSearchParams({ offset, limit, sort: state.sort,
                                    columns: [...Object.keys(state.params), ...RESULT_COLS].join(",") || "val_error" });
    if (state.status) q.set("status", state.status);
    for (const [k, v] of Object.entries(state.where)) if (v !== "") q.set(k, v);
    return `/api/v1/sweeps/${enc(name)}/jobs?${q}`;
  }

  // Fetch page p (PAGE rows) unless it is there or on its way.
  function page(p) {
    if (state.pages.has(p)) return;
    const gen = state.gen;
    state.pages.set(p, null);
    get(query(p * PAGE, PAGE)).then((r) => {
      if (gen !== state.gen) return;
      state.pages.set(p, r.jobs);
      if (state.total !== r.total) { state.total = r.total; sizeSpacer(); }
      draw();
    }).catch((e) => { state.pages.delete(p); showError(e); });
  }

  function sizeSpacer() {
    spacer.style.height = `${state.total * ROW_H}px`;
    count.textContent = `${state.total} job${state.total === 1 ? "" : "s"}`;
  }

  // Row elements by row index, recycled as the grid scrolls: a frame fills
  // only the rows that came into view, and moves none of the others.
  const live = new Map(), free = [];
  function rowEl() {
    return free.pop() || h("div", { class: "row", role: "row" }, state.cols.map((c) =>
      h("div", { role: "gridcell", class: `c${isNum(c) ? " num" : ""}`, style: `width:${widths(c)}px` },
        c === "id" ? h("a", {}) : c === "state" || c === "status" ? h("span", {}) : null)));
  }
  function fill(el, job) {
    el.job = job;
    if (!job) {
      delete el.dataset.job;
      el.classList.add("pending");
      el.children[0].firstChild.textContent = "…";
      for (let k = 1; k < el.children.length; k++) {
        const td = el.children[k];
        if (td.firstChild && td.firstChild.nodeType === 1) td.firstChild.textContent = "";
        else td.textContent = "";
      }
      return;
    }
    el.dataset.job = job.id;
    el.classList.remove("pending");
    state.cols.forEach((c, k) => {
      const td = el.children[k];
      if (c === "id") { td.firstChild.href = `#/job/${job.id}`; td.firstChild.textContent = job.id; return; }
      if (c === "state" || c === "status") {
        const v = job[c];
        td.firstChild.className = v ? `state state-${v}` : "";
        td.firstChild.textContent = v || "–";
        return;
      }
      td.textContent = fmt(job.row ? job.row[c] : null);
    });
  }

  // Only the rows in view (and a few around) are in the DOM.
  function draw() {
    const first = Math.max(0, Math.floor(gb.scrollTop / ROW_H) - 5);
    const last = Math.min(state.total, first + Math.ceil(gb.clientHeight / ROW_H) + 10);
    for (const [i, el] of live) if (i < first || i >= last) { live.delete(i); el.remove(); free.push(el); }
    for (let i = first; i < last; i++) {
      const p = Math.floor(i / PAGE);
      let jobs = state.pages.get(p);
      if (!jobs) { page(p); jobs = state.stale.get(p); }   // the old rows until the new come
      const job = (jobs && jobs[i - p * PAGE]) || null;
      let el = live.get(i);
      if (el && el.job === job) continue;
      if (!el) {
        el = rowEl();
        el.style.transform = `translateY(${i * ROW_H}px)`;
        el.setAttribute("aria-rowindex", i + 2);
        live.set(i, el);
        spacer.append(el);
      }
      fill(el, job);
    }
    gb.setAttribute("aria-rowcount", state.total + 1);
    const p0 = state.pages.get(0);
    empty.hidden = !(state.total === 0 && Array.isArray(p0) && p0.length === 0);
  }
  const empty = h("p", { class: "note", hidden: true }, "No job matches.");
  spacer.before(empty);
  let ticking = false;
  gb.addEventListener("scroll", () => {
    gh.scrollLeft = gb.scrollLeft;
    if (!ticking) { ticking = true; requestAnimationFrame(() => { ticking = false; draw(); }); }
  });

  function reload(keepScroll) {
    state.gen = (state.gen || 0) + 1;
    state.stale = keepScroll ? state.pages : new Map();
    state.pages = new Map();
    if (!keepScroll) gb.scrollTop = 0;
    headerTable();
    page(Math.floor(gb.scrollTop / ROW_H / PAGE));
    draw();
  }

  function buildFilters() {
    const sel = (label, key, values, value, on) => h("label", {}, `${label} `,
      h("select", { "data-filter": key, onchange: (e) => on(e.target.value) },
        h("option", { value: "" }, "all"),
        values.map((v) => h("option", { value: v, selected: String(v) === String(value) }, fmt(v)))));
    filters.replaceChildren(
      sel("status", "status", ["queued", "running", "done", "cancelled", "ok", "diverged", "failed",
                                "stopped", "interrupted", "paused"], state.status,
          (v) => { state.status = v; reload(); }),
      ...Object.entries(state.params).map(([k, vs]) =>
        sel(k, k, vs, state.where[k] ?? "", (v) => { state.where[k] = v; reload(); })));
  }

  async function summary() {
    const sw = await get(`/api/v1/sweeps/${enc(name)}`);
    head.replaceChildren(h("h1", {}, `Sweep ${sw.name} `, badge(sw.state)),
      h("div", { class: "summary" },
        h("div", {}, h("b", {}, "Progress"), progress(sw)),
        h("div", {}, h("b", {}, "Jobs"), `${sw.jobs.total} (${sw.jobs.queued} queued, ${sw.jobs.running} running, ${sw.jobs.done} done, ${sw.jobs.cancelled} cancelled)`),
        h("div", {}, h("b", {}, "Results"), `${sw.results.ok} ok, ${sw.results.diverged} diverged, ${sw.results.failed} failed`),
        h("div", {}, h("b", {}, "Core-hours"), (sw.core_seconds / 3600).toFixed(3)),
        h("div", {}, h("b", {}, "ETA"), duration(sw.eta_seconds)),
        h("div", {}, h("b", {}, "Priority"), sw.priority)),
      sweepActions(sw, () => refresh()));
  }

  async function bestAndCharts() {
    const cols = ["hidden", "layers", ...Object.keys(state.params), ...RESULT_COLS];
    const q = (sort, limit) => `/api/v1/sweeps/${enc(name)}/jobs?status=ok&sort=${sort}&limit=${limit}&columns=${[...new Set(cols)].join(",")}`;
    const top = await get(q("val_error", 10));
    const bcols = [...new Set(["hidden", "layers", ...Object.keys(state.params)])];
    best.replaceChildren(top.jobs.length ? h("table", { id: "best" },
      h("thead", {}, h("tr", {}, ["#", "job", ...bcols, "val_error", "test_error", "epochs_run"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, top.jobs.map((j, i) => h("tr", {},
        h("td", { class: "num" }, i + 1), h("td", {}, h("a", { href: `#/job/${j.id}` }, j.id)),
        [...bcols, "val_error", "test_error", "epochs_run"].map((c) => h("td", { class: "num" }, fmt(j.row[c]))))))) :
      h("p", { class: "note" }, "No job has finished ok yet."));
    const all = await get(q("hidden", 1000));
    charts.replaceChildren();
    if (!all.jobs.length) { charts.append(h("p", { class: "note" }, "The charts appear as jobs finish.")); return; }
    const metric = all.jobs.some((j) => j.row.val_error !== null) ? "val_error" : "test_error";
    const err = byHidden(all.jobs, metric, (v) => Math.min(...v));
    const thr = byHidden(all.jobs, "samples_per_s", (v) => v.reduce((a, b) => a + b, 0) / v.length);
    const series = (d, unit) => [{ label: "hidden" }, ...d.layers.map((L, i) => ({
      label: `${L} layer${L === 1 ? "" : "s"}`, stroke: COLORS[i % COLORS.length], spanGaps: true,
      points: { size: 7 }, value: (u, v) => v === null ? "–" : fmt(v) + unit }))];
    const axes = (y) => [{ label: "hidden units per layer" }, { label: y, size: 60 }];
    chart(charts, `best ${metric} against hidden size`, { series: series(err, ""), axes: axes(metric),
      scales: { x: { time: false } } }, [err.xs, ...err.ys]);
    chart(charts, "throughput (samples/s) against hidden size", { series: series(thr, ""),
      axes: axes("samples/s"), scales: { x: { time: false } } }, [thr.xs, ...thr.ys]);
    if (all.total > all.jobs.length)
      charts.append(h("p", { class: "note" }, `Charts from the first ${all.jobs.length} of ${all.total} ok jobs.`));
  }

  async function start() {
    await summary();
    state.params = (await get(`/api/v1/sweeps/${enc(name)}/params`)).params;
    state.cols = columns();
    buildFilters();
    reload();
    await bestAndCharts();
  }

  const refresh = throttle(() => {
    summary().catch(showError);
    reload(true);
  }, 700);
  const slow = throttle(() => bestAndCharts().catch(showError), 1500);
  return {
    refresh: () => { refresh(); slow(); },
    onEvent: (type, d) => {
      if (type === "lost" || !d || d.sweep === name) { refresh(); if (type === "job_ended") slow(); }
    },
    ready: start(),
  };
}

// ---- one job ---------------------------------------------------------------

function jobView(id) {
  const head = h("div"), rowBox = h("div"), plot = h("div", { class: "charts" });
  const ckpt = h("p"), logs = h("p", { class: "note" });
  $view.replaceChildren(head, h("div", { class: "cols2" },
    h("section", {}, h("h2", {}, "Learning curves"), plot),
    h("section", {}, h("h2", {}, "Checkpoint"), ckpt, h("h2", {}, "Log"), logs)),
    h("h2", {}, "Row"), rowBox);
  logs.textContent = "The server keeps no log per job: jobs log to the server's standard error.";
  let u = null, points = [], job = null, poll = null;

  const data = () => [points.map((p) => p.epoch), ...["train_loss", "train_error", "val_error",
                      "test_error"].map((k) => points.map((p) => p[k]))];
  function drawCurve() {
    plot.dataset.points = points.length;
    if (!points.length) {
      if (!u) plot.replaceChildren(h("p", { class: "note", id: "nocurve" }, "No epoch recorded yet."));
      return;
    }
    if (u) { u.setData(data()); return; }
    plot.replaceChildren();
    u = chart(plot, "loss and error per epoch", {
      scales: { x: { time: false } },
      series: [{ label: "epoch" },
        { label: "train loss", stroke: COLORS[0], width: 2, points: { size: 5 } },
        { label: "train error", stroke: COLORS[1], points: { size: 5 } },
        { label: "validation error", stroke: COLORS[2], spanGaps: true, points: { size: 5 } },
        { label: "test error", stroke: COLORS[3], spanGaps: true, points: { size: 5 } }],
      axes: [{ label: "epoch" }, { label: "loss / error", size: 60 }] }, data());
  }

  function checkpoint(e) {
    if (e.state === "running") return `Running (attempt ${e.attempt}): it checkpoints periodically and when drained, and a restart resumes it from there.`;
    if (e.status === "interrupted") return `Interrupted after attempt ${e.attempt}: it resumes from its checkpoint when it runs again.`;
    if (e.status === "paused") return "Paused at a rung of its sweep's asha search, with a checkpoint: it resumes from there if the search promotes it, or ends stopped.";
    if (e.state === "done") return "Done: its checkpoint was removed once its row was recorded.";
    if (e.state === "cancelled") return "Cancelled: it will not run.";
    return "Queued: no checkpoint yet.";
  }

  async function refresh() {
    job = await get(`/api/v1/jobs/${enc(id)}`);
    const e = job.sweeps[0];
    head.replaceChildren(h("p", {}, h("a", { href: `#/sweep/${enc(e.sweep)}` }, `← Sweep ${e.sweep}`)),
      h("h1", {}, `Job ${id} `, h("span", { id: "jobstate" }, badge(e.state)), " ",
        e.status ? badge(e.status) : ""),
      job.sweeps.length > 1 ? h("p", { class: "note" }, `Listed in ${job.sweeps.map((s) => s.sweep).join(", ")}.`) : "");
    ckpt.textContent = checkpoint(e);
    rowBox.replaceChildren(job.row ? h("dl", { class: "kv", id: "row" },
      Object.entries(job.row).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, fmt(v, 6))])) :
      h("p", { class: "note" }, "No row yet: it is written when the job ends or is interrupted."));
    points = job.curve;
    drawCurve();
    // while it trains, its curve grows: look again every 2 s as well as on
    // the stream's epoch events
    clearInterval(poll);
    if (e.state === "running") poll = setInterval(() => refresh().catch(showError), 2000);
  }
  const r = throttle(() => refresh().catch(showError), 500);
  return {
    refresh: r,
    onEvent: (type, d) => {
      if (type === "epoch" && d && d.job === id) {
        points = points.filter((p) => p.epoch !== d.epoch).concat([{ epoch: d.epoch,
          train_loss: d.train_loss, train_error: d.train_error, val_error: d.val_error ?? null,
          test_error: d.test_error }]).sort((a, b) => a.epoch - b.epoch);
        drawCurve();
      } else if (type === "lost" || (d && d.job === id) || (d && job && d.sweep && type === "sweep_state")) r();
    },
    stop: () => clearInterval(poll),
    ready: refresh(),
  };
}

// ---- the node --------------------------------------------------------------

function nodeView() {
  $view.replaceChildren(h("h1", {}, "Node"), h("div", { id: "node" }, "…"));
  async function refresh() {
    const n = await get("/api/v1/node");
    const byNuma = new Map();
    for (const c of n.cores) { if (!byNuma.has(c.numa)) byNuma.set(c.numa, []); byNuma.get(c.numa).push(c); }
    const placed = n.running.some((j) => j.cpus);
    const pct = n.mem_total_bytes && n.mem_used_bytes !== null ? 100 * n.mem_used_bytes / n.mem_total_bytes : 0;
    document.getElementById("node").replaceChildren(
      h("div", { class: "summary" },
        h("div", {}, h("b", {}, "Cores busy"), `${n.busy_cores} of ${n.total_cores}`),
        h("div", {}, h("b", {}, "NUMA nodes"), n.numa_nodes || "–"),
        h("div", {}, h("b", {}, "Memory budget"), bytes(n.mem_total_bytes)),
        h("div", {}, h("b", {}, "Memory in use"), n.mem_used_bytes === null ? "not reported" : bytes(n.mem_used_bytes)),
        h("div", {}, h("b", {}, "Samples/s"), fmt(n.samples_per_s))),
      h("div", { class: "mem", role: "img", "aria-label": `memory in use ${pct.toFixed(0)}% of the budget` },
        h("span", { style: `width:${pct.toFixed(1)}%` })),
      h("h2", {}, "Cores"),
      h("div", { class: "cores" }, [...byNuma].map(([numa, cores]) => h("section", { class: "numa" },
        h("h3", {}, `NUMA node ${numa}`),
        h("div", { class: "cells" }, cores.map((c) => h("div", { class: `core${c.job ? " busy" : ""}` },
          h("div", {}, `core ${c.core} (PU ${c.pu})`),
          c.job ? h("a", { href: `#/job/${c.job}` }, c.job) : h("span", { class: "note" }, "idle"))))))),
      placed ? "" : h("p", { class: "note" }, "The scheduler does not report which cores a running job holds yet; the running jobs are below."),
      h("h2", {}, "Running jobs"),
      n.running.length ? h("table", { id: "running" },
        h("thead", {}, h("tr", {}, ["sweep", "job", "attempt", "threads", "cpus", "NUMA node", "memory"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, n.running.map((j) => h("tr", {},
          h("td", {}, h("a", { href: `#/sweep/${enc(j.sweep)}` }, j.sweep)),
          h("td", {}, h("a", { href: `#/job/${j.id}` }, j.id)),
          h("td", { class: "num" }, j.attempt), h("td", { class: "num" }, fmt(j.threads)),
          h("td", {}, fmt(j.cpus)), h("td", { class: "num" }, fmt(j.numa_node)),
          h("td", { class: "num" }, bytes(j.mem_bytes)))))) :
        h("p", { class: "note" }, "No job is running."));
  }
  const r = throttle(() => refresh().catch(showError), 700);
  return { refresh: r, onEvent: r, ready: refresh() };
}

// ---- routing, the stream -----------------------------------------------------

function showError(e) {
  if (e && e.message === "signed out") return;
  const p = h("p", { class: "error", role: "alert" }, String(e.message || e));
  $view.prepend(p);
  setTimeout(() => p.remove(), 8000);
}

function route() {
  if (current && current.stop) current.stop();
  const [, kind, arg] = (location.hash || "#/").match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const name = decodeURIComponent(arg || "");
  for (const a of document.querySelectorAll("[data-nav]"))
    a.toggleAttribute("aria-current", false);
  const nav = kind === "node" ? "node" : kind ? null : "sweeps";
  if (nav) document.querySelector(`[data-nav=${nav}]`).setAttribute("aria-current", "page");
  current = kind === "sweep" ? sweepView(name) : kind === "job" ? jobView(name) :
            kind === "node" ? nodeView() : sweepsView();
  document.title = `lstmsweep: ${kind === "sweep" ? `sweep ${name}` : kind === "job" ? `job ${name}` : kind || "sweeps"}`;
  current.ready.then(() => { document.body.dataset.ready = location.hash || "#/"; }).catch(showError);
}

function stream() {
  const es = new EventSource("/api/v1/events");
  let wasOpen = false;
  es.onopen = () => {
    $live.textContent = "live"; $live.className = "live on";
    if (wasOpen && current) current.refresh();       // back after a loss: catch up
    wasOpen = true;
  };
  es.onerror = () => { $live.textContent = "reconnecting…"; $live.className = "live off"; };
  for (const type of ["job_started", "job_ended", "epoch", "sweep_state", "lost"])
    es.addEventListener(type, (e) => {
      let d = null;
      try { d = JSON.parse(e.data); } catch { /* a lost event's data is JSON too */ }
      window.lsEvents = (window.lsEvents || 0) + 1;
      if (current) current.onEvent(type, d);
    });
}

document.getElementById("logout").addEventListener("click", async () => {
  await post("/logout").catch(() => null);
  location.href = "/";
});
window.addEventListener("hashchange", route);
session().then(() => { route(); stream(); }).catch(showError);
