// What earlier runs of the app say about this one (DESIGN.md "Memory across runs"): the app's version, how the
// run started (cold, or warm from the app's map, and what it recalled), the crashes and ANRs of an older version
// it no longer met, what changed since the previous version, and whether each finding is new. GET /run/{id} and
// GET /run/{id}/findings say them; a live run's events add to them. An older server sends none: nothing shows.
import { LIVE_STATUSES, TERMINAL, apiKey, apiUrl, blobUrl, call, el, runHref, versionKey, versionLabel } from "./common.js";
import { shortActivity } from "./graph.js";

const KINDS = { crash: "crash", anr: "ANR" };
const DRIFT_COUNTS = [ // key, one, many
  ["screensAdded", "screen added", "screens added"], ["screensRemoved", "screen removed", "screens removed"],
  ["screensChanged", "screen changed", "screens changed"], ["activitiesAdded", "activity added", "activities added"],
  ["activitiesRemoved", "activity removed", "activities removed"],
  ["transitionsAdded", "transition added", "transitions added"], ["transitionsRemoved", "transition removed", "transitions removed"],
];
const LIST_SHOWN = 50; // per list: a new version can change hundreds of lines
const OPEN_CHANGED = 3; // changed screens shown open when there are this few
const HISTORY_EVERY_MS = 3000;
const HISTORY_RETRIES = 5; // the findings view may lag the events by a little
const $ = (id) => document.getElementById(id);

export class RunMemory {
  constructor(runId, findings) {
    this.runId = runId;
    this.findings = findings;
    this.fixed = new Map(); // signature -> {signature, kind, title, lastVersion, lastRunId}
    this.driftShown = null;
    this.history = { timer: null, at: 0, retries: 0, unsupported: false };
  }

  /** What GET /run/{id} says; `live`: the run had not ended, so its drift and fixed list are asked again at its end. */
  show(run) {
    this.live = LIVE_STATUSES.has(String(run.status || "").toLowerCase());
    if (run.app && "version" in run.app) showVersion(run.app.version);
    if (run.memory) showMemory(run.memory);
    for (const f of Array.isArray(run.fixed) ? run.fixed : []) this.fixed.set(f.signature, f);
    this.renderFixed();
    if (run.drift) this.showDrift(run.drift);
  }

  /** What the run's events add: what it recalled, each finding it found fixed, findings whose history to ask. */
  add({ name, data }) {
    if (name === "agent.memory.recalled") showRecalled(data);
    if (name === "agent.finding.fixed") { this.fixed.set(data.signature, data); this.renderFixed(); }
    if (name === "agent.finding.detected") this.askHistory();
    if (TERMINAL.has(name)) { this.askHistory(); this.ended(); }
  }

  async ended() {
    if (!this.live) return;
    this.live = false;
    const run = await call(`run/${encodeURIComponent(this.runId)}`).catch(() => null);
    if (run) this.show(run);
  }

  renderFixed() {
    $("fixed-card").hidden = this.fixed.size === 0;
    $("fixed").replaceChildren(...[...this.fixed.values()].map(fixedItem));
  }

  showDrift(drift) {
    const shown = JSON.stringify(drift);
    if (shown === this.driftShown) return;
    const again = this.driftShown !== null;
    this.driftShown = shown;
    $("drift-card").hidden = false;
    $("drift-counts").replaceChildren(...DRIFT_COUNTS.filter(([key]) => Array.isArray(drift[key])).map(driftCount(drift)));
    $("drift-lists").replaceChildren(...driftLists(drift));
    showDriftPicture(drift, again);
    this.nameBase(drift.base);
  }

  // The base run by its version when it has one ("since version 3.2.1"), else by its id.
  async nameBase(baseId) {
    const link = Object.assign($("drift-base"), { href: runHref(baseId), title: `run ${baseId}` });
    if (link.dataset.runId === baseId) return;
    link.dataset.runId = baseId;
    link.textContent = versionKey(null, baseId);
    const base = await call(`run/${encodeURIComponent(baseId)}`).catch(() => null);
    const v = base?.app?.version;
    const name = v?.versionName || v?.versionCode;
    if (name !== undefined && name !== null && link.dataset.runId === baseId) link.textContent = `version ${name}`;
  }

  // The events do not say whether a finding is new to the app; GET /run/{id}/findings does. Asked when
  // findings come (at most every HISTORY_EVERY_MS) and at the end; never again from a server that does not say.
  askHistory() {
    const h = this.history;
    if (h.unsupported || h.timer) return;
    h.timer = setTimeout(() => this.loadHistory(), Math.max(0, h.at + HISTORY_EVERY_MS - Date.now()));
  }

  async loadHistory() {
    const h = this.history;
    h.at = Date.now();
    const answer = await call(`run/${encodeURIComponent(this.runId)}/findings`).catch(() => null);
    h.timer = null;
    const rows = Array.isArray(answer?.findings) ? answer.findings : [];
    if (rows.length && rows.every((f) => f.history === undefined)) { h.unsupported = true; return; }
    const missing = this.findings.learnHistory(rows);
    h.retries = missing ? h.retries + 1 : 0;
    if (missing && h.retries <= HISTORY_RETRIES) this.askHistory();
  }
}

function showVersion(version) {
  Object.assign($("app-version"), { hidden: false, className: "app-version-fact" }).replaceChildren("version ", versionLabel(version));
}

function showMemory(memory) {
  const node = Object.assign($("memory"), { hidden: false, className: `memory memory-${memory}`, textContent: `memory: ${memory}`,
    title: memory === "warm" ? "started from what earlier runs of this app learned (the app's map)" : "knew nothing of earlier runs" });
  node.dataset.memory = memory;
}

function showRecalled(d) {
  const text = d.cold ? d.note || "nothing to recall"
    : [`recalled ${plural(d.runs, "run")}, ${plural(d.screens, "screen")}`,
       d.sameVersion ? "same version" : d.previousVersion ? `since ${versionKey(d.previousVersion)}` : null].filter(Boolean).join(" · ");
  Object.assign($("memory-detail"), { hidden: false, textContent: text, title: d.note || "" });
}

function fixedItem(f) {
  const last = versionKey(f.lastVersion, f.lastRunId);
  return el("li", { class: `fixed kind-${f.kind}`, dataset: { signature: f.signature, kind: f.kind } },
    el("span", { class: `tag finding-kind kind-${f.kind}` }, KINDS[f.kind] || f.kind), " ",
    el("span", { class: "fixed-title" }, f.title || f.signature), " ",
    el("span", { class: "muted" }, "last seen in "),
    f.lastRunId ? el("a", { class: "fixed-last", href: runHref(f.lastRunId), title: `run ${f.lastRunId}` }, last)
      : el("span", { class: "fixed-last" }, last));
}

function driftCount(drift) {
  return ([key, one, many]) => el("li", { class: "drift-count", dataset: { key, count: drift[key].length } },
    el("strong", {}, String(drift[key].length)), ` ${drift[key].length === 1 ? one : many}`);
}

function driftLists(d) {
  const activity = (name) => el("li", {}, el("code", {}, name));
  const screen = (s) => el("li", { title: (s.elements || []).join("\n"), dataset: { screenId: s.screenId } },
    el("code", {}, shortActivity(s.activity)), el("span", { class: "muted" }, ` ${String(s.screenId || "").slice(0, 6)}`));
  return [
    driftList("Activities added", "activities-added", d.activitiesAdded, activity),
    driftList("Activities removed", "activities-removed", d.activitiesRemoved, activity),
    driftList("Screens added", "screens-added", d.screensAdded, screen),
    driftList("Screens removed", "screens-removed", d.screensRemoved, screen),
    driftList("Screens changed", "screens-changed", d.screensChanged, changedScreen((d.screensChanged || []).length <= OPEN_CHANGED)),
  ].filter(Boolean);
}

function driftList(title, name, items, item) {
  if (!Array.isArray(items) || !items.length) return null;
  return el("div", { class: `drift-list ${name}` }, el("h3", {}, title), capped("ul", items, item));
}

// A changed screen: its activity, then the outline lines it gained and lost.
function changedScreen(open) {
  const line = (sign) => (text) => el("li", {}, `${sign} ${text}`);
  return (s) => el("li", {}, el("details", { class: "drift-screen", open, dataset: { baseScreenId: s.baseScreenId, headScreenId: s.headScreenId } },
    el("summary", {}, el("code", { title: s.activity }, shortActivity(s.activity)),
       el("span", { class: "muted" }, ` +${(s.elementsAdded || []).length} −${(s.elementsRemoved || []).length}`)),
    capped("ul", s.elementsAdded || [], line("+"), "elements-added"),
    capped("ul", s.elementsRemoved || [], line("−"), "elements-removed")));
}

function capped(tag, items, item, className = null) {
  const list = el(tag, { class: className }, ...items.slice(0, LIST_SHOWN).map(item));
  if (items.length > LIST_SHOWN) list.append(el("li", { class: "muted" }, `… ${items.length - LIST_SHOWN} more`));
  return list;
}

// The drift drawn by GET /runs/diff.svg. With an API key the picture is fetched with it (an <img> cannot send
// it); shown again at a live run's end, it gets a new URL: the browser keeps an image by its URL.
function showDriftPicture(drift, again) {
  const img = $("drift-svg");
  const path = `runs/diff.svg?${new URLSearchParams({ base: drift.base, head: drift.head })}`;
  img.dataset.src = apiUrl(path).href;
  img.onerror = () => { img.hidden = true; };
  img.onload = () => { img.hidden = false; };
  if (!apiKey()) {
    img.src = again ? `${img.dataset.src}&at=${Date.now()}` : img.dataset.src;
    return;
  }
  blobUrl(path).then((url) => {
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = url;
  }).catch(() => { img.hidden = true; });
}

function plural(n, word) {
  return `${n ?? 0} ${word}${n === 1 ? "" : "s"}`;
}
