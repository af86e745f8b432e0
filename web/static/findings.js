// The Findings panel: what broke in the run (crashes, ANRs, accessibility problems), built from the
// run's events as they arrive, like the rest of the page: agent.finding.detected opens a finding,
// agent.finding.recurred counts it again, agent.finding.reproduced says how its replay went. The
// same facts as GET /run/{id}/findings; its test.py and the run's report.xml are links to the API.
import { apiKey, apiUrl, blobUrl, el, fetchText, runHref, versionKey } from "./common.js";
import { shortActivity } from "./graph.js";

const KINDS = { crash: "crash", anr: "ANR", accessibility: "accessibility" };
const MANY = { crash: "crashes", anr: "ANRs", accessibility: "accessibility" };
const TESTED = new Set(["crash", "anr"]); // an accessibility finding has no test.py
const FRAMES_SHOWN = 12;

export class Findings {
  constructor(root, { runId, artifactPath }) {
    this.root = root;
    this.list = root.querySelector(".findings");
    this.runId = runId;
    this.artifactPath = artifactPath;
    this.byId = new Map(); // findingId -> {finding, card}
    this.histories = new Map(); // findingId -> history, also of findings whose event has not come yet
    this.dirty = new Set();
    this.packageName = "";
    this.ended = false;
    this.reproducing = null; // the finding whose path is being replayed now
    root.querySelector(".report-link").replaceWith(
      fileLink("report.xml", `run/${encodeURIComponent(runId)}/report.xml`, `report-${runId}.xml`, "report-link"));
  }

  get size() { return this.byId.size; }

  counts() {
    const counts = {};
    for (const { finding } of this.byId.values()) counts[finding.kind] = (counts[finding.kind] || 0) + 1;
    return counts;
  }

  /** Learns from one event; true when a finding changed. */
  add({ name, data }) {
    switch (name) {
      case "agent.finding.detected": {
        const known = this.byId.get(data.findingId);
        // A run taken over rebuilt the signatures it met: a second detection is one occurrence more.
        if (known) known.finding.occurrences += 1;
        else this.byId.set(data.findingId, { finding: { ...detected(data), history: this.histories.get(data.findingId) }, card: null });
        return this.touch(data.findingId);
      }
      case "agent.finding.recurred": {
        const known = this.byId.get(data.findingId);
        if (known) known.finding.occurrences += 1;
        return this.touch(data.findingId);
      }
      case "agent.finding.reproduced": {
        const known = this.byId.get(data.findingId);
        if (known) known.finding.reproduction = { steps: data.steps || [], attempts: data.attempts, reproduced: data.reproduced };
        if (this.reproducing === data.findingId) this.reproducing = null;
        return this.touch(data.findingId);
      }
      case "agent.action.performed":
        if (data.reproducing && data.reproducing !== this.reproducing) {
          const was = this.reproducing;
          this.reproducing = data.reproducing;
          this.touch(was);
          return this.touch(data.reproducing);
        }
        return false;
      case "agent.node.finished":
        if (data.nodeName === "Reproduce" && this.reproducing) return this.stopReproducing();
        return false;
      case "run.completed": case "run.failed": case "run.canceled": case "run.paused":
        this.ended = name !== "run.paused";
        for (const id of this.byId.keys()) this.dirty.add(id); // "not replayed yet" becomes final
        this.stopReproducing();
        return true;
      default: return false;
    }
  }

  /** Whether each finding is new to the app or known from an earlier run: GET /run/{id}/findings says it, the
   *  events do not (RunMemory asks). Returns how many findings still have no history. */
  learnHistory(rows) {
    for (const row of rows) {
      if (row.history) this.histories.set(row.findingId, row.history); // a finding the replay has not reached yet
      const entry = this.byId.get(row.findingId);
      if (!entry || !row.history || JSON.stringify(row.history) === JSON.stringify(entry.finding.history)) continue;
      entry.finding.history = row.history;
      this.touch(row.findingId);
    }
    this.render();
    return [...this.byId.values()].filter(({ finding }) => !finding.history).length;
  }

  stopReproducing() {
    const was = this.reproducing;
    this.reproducing = null;
    return this.touch(was);
  }

  touch(findingId) {
    if (!findingId || !this.byId.has(findingId)) return false;
    this.dirty.add(findingId);
    return true;
  }

  /** Draws the findings that changed since the last call: a card each, in the order they were found.
   *  A card is built once; later events redraw its summary line and its reproduction, not its evidence. */
  render() {
    for (const id of this.dirty) {
      const entry = this.byId.get(id);
      if (!entry.card) {
        entry.card = this.card(entry.finding);
        this.list.append(entry.card);
      }
      this.update(entry.card, entry.finding);
    }
    this.dirty.clear();
    const counts = this.counts();
    this.root.querySelector(".findings-summary").textContent = Object.keys(KINDS)
      .filter((kind) => counts[kind]).map((kind) => `${counts[kind]} ${(counts[kind] > 1 ? MANY : KINDS)[kind]}`).join(" · ");
    this.root.querySelector(".no-findings").hidden = this.size > 0;
  }

  card(f) {
    const body = el("div", { class: "finding-body" });
    const card = el("details", { class: `finding kind-${f.kind}`, open: TESTED.has(f.kind), // crashes and ANRs open at first
                                 dataset: { findingId: f.findingId, kind: f.kind } }, el("summary"), body);
    // The body (and its screenshot) is built when the card is first opened.
    const fill = () => {
      if (!card.open || body.childElementCount) return;
      body.append(...this.evidence(f), el("div", { class: "finding-side" }));
      this.update(card, f);
    };
    card.addEventListener("toggle", fill);
    fill();
    return card;
  }

  update(card, f) {
    card.querySelector("summary").replaceChildren(...[
      el("span", { class: `tag finding-kind kind-${f.kind}` }, KINDS[f.kind] || f.kind),
      historyBadge(f.history),
      el("span", { class: "finding-title" }, f.title),
      el("span", { class: "muted finding-facts" }, `${f.occurrences}× · step ${f.firstStep} · ${shortActivity(f.activity)}`),
      TESTED.has(f.kind) ? el("span", { class: `finding-result ${resultClass(f)}` }, this.result(f)) : null,
    ].filter(Boolean));
    const side = card.querySelector(".finding-side");
    if (side) side.replaceChildren(...(TESTED.has(f.kind) ? this.reproduction(f) : []), this.links(f));
  }

  result(f) {
    const r = f.reproduction;
    if (this.reproducing === f.findingId) return "reproducing…";
    if (r) return r.reproduced > 0 ? `reproduced ${r.reproduced} of ${r.attempts}` : `not reproduced (0 of ${r.attempts})`;
    return this.ended ? "not replayed" : "not replayed yet";
  }

  // What the finding showed when it was found: the exception and stack (or the rule broken), the screenshot.
  evidence(f) {
    const d = f.details || {};
    const parts = [];
    if (d.exception) {
      parts.push(el("p", { class: "exception" }, el("code", {}, d.exception), d.message ? `: ${d.message}` : ""));
      if (d.frames?.length) parts.push(this.frames(d.frames));
    }
    if (d.logcatError) parts.push(el("p", { class: "muted" }, `no stack: ${d.logcatError}`));
    if (d.freezeSeconds !== undefined && d.freezeSeconds !== null) parts.push(el("p", {}, `froze for ${d.freezeSeconds} s`));
    if (d.rule) {
      parts.push(el("p", { class: "rule" }, el("strong", {}, d.rule), d.detail ? `: ${d.detail}` : ""));
      parts.push(el("p", { class: "muted" }, [d.label ? `"${d.label}"` : "no label", d.bounds ? `at ${bounds(d.bounds)}` : ""]
        .filter(Boolean).join(" ")));
    }
    if (f.artifacts?.screenshot) parts.push(this.screenshot(f));
    return parts;
  }

  frames(frames) {
    const own = (frame) => this.packageName && frame.startsWith(`${this.packageName}.`);
    const shown = frames.slice(0, FRAMES_SHOWN);
    const list = el("ol", { class: "frames" },
      ...shown.map((frame) => el("li", { class: own(frame) ? "own" : "other", title: own(frame) ? "the app's code" : "" }, `at ${frame}`)));
    if (frames.length > shown.length) list.append(el("li", { class: "other" }, `… ${frames.length - shown.length} more`));
    return list;
  }

  // The screenshot of what showed after the action; an accessibility finding's is the screen, with the
  // element boxed: its bounds are the device's pixels, and the page source's <hierarchy> says the screen's size.
  screenshot(f) {
    const img = el("img", { alt: `screenshot of the ${KINDS[f.kind] || f.kind}` });
    const figure = el("figure", { class: "finding-shot" }, img);
    blobUrl(this.artifactPath(f.artifacts.screenshot)).then((url) => { img.src = url; })
      .catch(() => figure.replaceChildren(el("span", { class: "muted" }, "screenshot unavailable")));
    const b = f.details?.bounds;
    if (f.kind === "accessibility" && b?.length === 4 && f.artifacts.pageSource) {
      fetchText(this.artifactPath(f.artifacts.pageSource)).then((source) => {
        const size = screenSize(source);
        if (!size) return;
        const [x1, y1, x2, y2] = b;
        const percent = (part, whole) => `${((100 * part) / whole).toFixed(2)}%`;
        figure.append(el("span", { class: "finding-box", style: `left:${percent(x1, size.width)};top:${percent(y1, size.height)};`
          + `width:${percent(x2 - x1, size.width)};height:${percent(y2 - y1, size.height)}` }));
      }).catch(() => {}); // no box: the screenshot and the bounds in words still say where
    }
    return figure;
  }

  reproduction(f) {
    const r = f.reproduction;
    const head = el("p", { class: `finding-result ${resultClass(f)}` }, this.result(f));
    if (!r) return [head];
    if (!r.steps.length) return [head, el("p", { class: "muted" }, "no known path leads to it")];
    const steps = el("ol", { class: "repro-steps" }, ...r.steps.map((step, i) => el("li", {},
      el("span", {}, step.label || step.actionId || step.kind || "?"),
      el("span", { class: "muted" }, ` ${step.fromScreen?.slice(0, 6) || "?"} → ${i === r.steps.length - 1 && !step.toScreen
        ? KINDS[f.kind] : step.toScreen?.slice(0, 6) || "?"}`))));
    return [head, el("p", { class: "muted" }, `from a fresh launch, ${r.steps.length} step${r.steps.length > 1 ? "s" : ""}:`), steps];
  }

  links(f) {
    const links = el("p", { class: "finding-links" });
    const a = f.artifacts || {};
    if (TESTED.has(f.kind) && f.reproduction?.steps?.length) { // the test replays the reproduction's path
      links.append(fileLink("test.py", `run/${encodeURIComponent(this.runId)}/findings/${f.findingId}/test.py`,
                            `test_finding_${f.findingId}.py`, "test-link"), " ");
    }
    if (a.logcat) links.append(artifactLink("logcat", this.artifactPath(a.logcat)), " ");
    if (a.pageSource) links.append(artifactLink("page source", this.artifactPath(a.pageSource)));
    return links;
  }
}

function detected(data) {
  return { findingId: data.findingId, kind: data.kind, title: data.title, signature: data.signature,
           firstStep: data.stepOrdinal, occurrences: 1, screenId: data.screenId, activity: data.activity,
           details: data.details || {}, artifacts: data.artifacts || {}, reproduction: null };
}

// New to the app, or known since an earlier version (a link to the run that first met it); none without history.
function historyBadge(history) {
  if (history?.status === "new") {
    return el("span", { class: "tag history history-new", dataset: { history: "new" }, title: "never met in an earlier run of this app" }, "new");
  }
  if (history?.status !== "known") return null;
  const text = `known since ${versionKey(history.firstVersion, history.firstRunId)}`;
  if (!history.firstRunId) return el("span", { class: "tag history history-known", dataset: { history: "known" } }, text);
  return el("a", { class: "tag history history-known", dataset: { history: "known" }, href: runHref(history.firstRunId),
                   title: `first met in run ${history.firstRunId}` }, text);
}

function resultClass(f) {
  const r = f.reproduction;
  if (!r) return "pending";
  if (r.reproduced === 0) return "missed";
  return r.reproduced < r.attempts ? "flaky" : "reproduced";
}

// UiAutomator2's page source: <hierarchy rotation="0" width="1080" height="2400">.
function screenSize(source) {
  const root = source.match(/<hierarchy\b[^>]*>/)?.[0] || "";
  const [width, height] = ["width", "height"].map((name) => Number(root.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1]));
  return width > 0 && height > 0 ? { width, height } : null;
}

function bounds(b) {
  return b.length === 4 ? `[${b[0]},${b[1]}][${b[2]},${b[3]}]` : JSON.stringify(b);
}

// A link to a file of the API that the browser follows as is; with an API key, the file is fetched
// with it and saved from memory (a plain link cannot send the key).
function fileLink(label, path, filename, className) {
  const link = el("a", { class: className, href: apiUrl(path).href, download: filename }, label);
  link.addEventListener("click", async (event) => {
    if (!apiKey()) return;
    event.preventDefault();
    const url = await blobUrl(path).catch(() => null);
    if (!url) return;
    const save = el("a", { href: url, download: filename });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
  return link;
}

// An artifact (logcat, page source) in a new tab.
function artifactLink(label, path) {
  const link = el("a", { href: apiUrl(path).href, target: "_blank", rel: "noopener" }, label);
  link.addEventListener("click", async (event) => {
    if (!apiKey()) return;
    event.preventDefault();
    const url = await blobUrl(path).catch(() => null);
    if (url) window.open(url, "_blank", "noopener");
  });
  return link;
}
