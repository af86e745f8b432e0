// The timeline: the run's events grouped by step, newest step first. Only open steps have their
// events in the page (a step's rows are built when it opens), so a run of thousands of events
// keeps a small DOM, and an event only ever appends one row: nothing is re-rendered.
import { clock, el } from "./common.js";
import { shortActivity } from "./graph.js";

export class Timeline {
  constructor(root) {
    this.root = root;
    this.groups = new Map(); // step -> {details, summary, list, events, ...}
    this.current = null;
  }

  add(event) {
    const step = event.data.stepOrdinal ?? this.current?.step ?? 0; // run-level events join the step under way
    const group = this.groups.get(step) ?? this.openGroup(step);
    group.events.push(event);
    group.details.dataset.count = group.events.length;
    if (learn(group, event)) this.summarize(group);
    if (group.list) group.list.append(row(event));
  }

  openGroup(step) {
    const details = el("details", { class: "step", dataset: { step, count: 0 } });
    const summary = el("summary");
    const group = { step, details, summary, list: null, events: [], touched: false, failures: 0, modelCalls: 0, fallbacks: 0,
                    findings: 0, problems: 0, dialogs: 0, exits: 0, recoveries: 0, byItself: 0 };
    details.append(summary);
    details.addEventListener("toggle", () => this.toggled(group));
    summary.addEventListener("click", () => { group.touched = true; });
    this.summarize(group);
    this.root.prepend(details);
    this.groups.set(step, group);
    // The step under way is open; the one before closes unless the reader opened it.
    if (this.current && !this.current.touched) this.current.details.open = false;
    this.current = group;
    details.open = true;
    this.toggled(group);
    return group;
  }

  toggled(group) {
    if (group.details.open && !group.list) {
      group.list = el("ol", { class: "events" }, ...group.events.map(row));
      group.details.append(group.list);
    } else if (!group.details.open && group.list) {
      group.list.remove(); // a closed step keeps its events in memory only
      group.list = null;
    }
  }

  summarize(group) {
    const title = group.step === 0 ? "Setup" : `Step ${group.step}`;
    group.summary.replaceChildren(...[
      el("span", { class: "step-title" }, title),
      group.at ? el("span", { class: "step-at" }, group.at) : null,
      group.action ? el("span", { class: "step-action" }, group.action) : null,
      group.to ? el("span", { class: "step-to" }, `→ ${group.to}`) : null,
      group.newScreens ? el("span", { class: "tag new" }, `${group.newScreens} new screen${group.newScreens > 1 ? "s" : ""}`) : null,
      group.failures ? el("span", { class: "tag fail" }, `${group.failures} failed`) : null,
      group.modelCalls ? el("span", { class: "tag llm" }, plural(group.modelCalls, "model call")) : null,
      group.fallbacks ? el("span", { class: "tag fallback" }, plural(group.fallbacks, "fallback")) : null,
      group.findings ? el("span", { class: `tag finding${group.problems ? " fail" : ""}` }, plural(group.findings, "finding")) : null,
      group.dialogs ? el("span", { class: "tag system-dialog" }, plural(group.dialogs, "system dialog")) : null,
      group.exits ? el("span", { class: "tag app-left" }, `left app${group.exits > 1 ? ` ×${group.exits}` : ""}`) : null,
      group.recoveries ? el("span", { class: "tag device-recovered" }, `device recovered${group.recoveries > 1 ? ` ×${group.recoveries}` : ""}`) : null,
      group.byItself ? el("span", { class: "tag by-time" }, `changed by itself${group.byItself > 1 ? ` ×${group.byItself}` : ""}`) : null,
      group.reproducing ? el("span", { class: "tag reproducing" }, "reproducing") : null,
      group.end ? el("span", { class: `tag end end-${group.endKind}` }, group.end) : null,
    ].filter(Boolean));
  }
}

/** Updates what a step's summary line says; true when it changed. */
function learn(group, { name, data }) {
  switch (name) {
    case "agent.action.performed":
      group.action = data.action?.label || data.action?.kind;
      if (data.reproducing) group.reproducing = true;
      return true;
    case "agent.finding.detected":
      group.findings += 1;
      if (data.kind !== "accessibility") group.problems += 1;
      return true;
    case "agent.screen.perceived": group.at = shortActivity(data.activity); return true;
    case "agent.system.dialog": group.dialogs += 1; return true;
    case "agent.app.left": group.exits += 1; return true;
    case "agent.device.recovered": group.recoveries += 1; return true;
    case "graph.transition.discovered":
      if (data.by !== "time") return false;
      group.byItself += 1;
      return true;
    case "graph.screen.discovered": group.newScreens = (group.newScreens || 0) + 1; return true;
    case "agent.llm.called":
      group.modelCalls += 1;
      if (data.outcome === "fallback") group.fallbacks += 1;
      return true;
    case "agent.node.finished":
      if (data.nodeName === "Verify" && data.detail?.activity) { group.to = shortActivity(data.detail.activity); return true; }
      if (data.outcomeStatus === "FAILURE") { group.failures += 1; return true; }
      return false;
    case "run.completed": case "run.failed": case "run.canceled":
      group.end = `${name.slice(4)} · ${(data.stopReason || "").replaceAll("_", " ")}`;
      group.endKind = name.slice(4);
      return true;
    default: return false;
  }
}

function plural(n, word) {
  return `${n} ${word}${n > 1 ? "s" : ""}`;
}

function row(event) {
  const kind = event.name.split(".")[0];
  const model = event.name === "agent.llm.called";
  const fellBack = model && event.data.outcome === "fallback"; // not a failure: the depth-first choice was taken
  const broke = event.name === "agent.finding.detected" || event.name === "agent.finding.recurred"; // the app's, not the run's
  const met = MET[event.name]; // what the system or another app put in the agent's way: its own kind of entry
  const mark = met || marked(event); // the device's and time's doings: their own kinds of entry, not `met`
  return el("li", { class: `event kind-${kind}${failed(event) ? " failed" : ""}${model ? " llm" : ""}${fellBack ? " fallback" : ""}${broke ? " finding" : ""}${met ? ` met ${met.kind}` : ""}${!met && mark ? ` ${mark.kind}` : ""}`,
                    dataset: { seq: event.seq } },
    el("span", { class: "seq" }, `#${event.seq}`),
    el("time", { datetime: event.data.ts }, clock(event.data.ts)),
    el("span", { class: "name" }, event.name),
    el("span", { class: "detail" }, mark ? el("span", { class: `tag ${mark.kind}` }, mark.tag) : null, mark ? " " : null,
       describe(event)));
}

const MET = {
  "agent.system.dialog": { kind: "system-dialog", tag: "system dialog" },
  "agent.app.left": { kind: "app-left", tag: "left app" },
};
const RECOVERED = { kind: "device-recovered", tag: "device recovered" }; // a dead UiAutomator2 server or session replaced
const BY_TIME = { kind: "by-time", tag: "changed by itself" }; // the screen changed while the agent waited: no action did it

function marked({ name, data }) {
  if (name === "agent.device.recovered") return RECOVERED;
  if (name === "graph.transition.discovered" && data.by === "time") return BY_TIME;
  return null;
}

function failed({ name, data }) {
  return data.outcomeStatus === "FAILURE" || name === "run.failed";
}

function describe({ name, data }) {
  const detail = data.detail || {};
  switch (name) {
    case "run.queued":
      return [`max ${data.maxSteps} steps`, data.policy ? `policy ${data.policy}` : "", data.goal ? `goal: ${data.goal}` : ""]
        .filter(Boolean).join(" · ");
    case "run.started": return `on ${data.workerId} · attempt ${data.attempt}`;
    case "agent.node.started": return data.nodeName;
    case "agent.node.finished":
      return [data.nodeName, data.outcomeStatus, detail.durationMs !== undefined ? `${detail.durationMs} ms` : "",
              detail.stopReason ? `stop: ${detail.stopReason}` : "", detail.error || ""].filter(Boolean).join(" · ");
    case "agent.screen.perceived": return `${data.activity} · ${data.elementCount} elements · ${data.screenId}`;
    case "agent.action.performed":
      return [data.action?.label || data.action?.kind || "", data.reproducing ? `reproducing ${data.reproducing}` : null]
        .filter(Boolean).join(" · ");
    case "agent.finding.detected": return [data.kind, data.title, data.details?.rule ? null : data.details?.exception].filter(Boolean).join(" · ");
    case "agent.finding.recurred": return `again · ${data.findingId}`;
    case "agent.finding.reproduced":
      return `reproduced ${data.reproduced} of ${data.attempts} · ${plural(data.steps?.length || 0, "step")} · ${data.findingId}`;
    case "graph.screen.discovered":
      return [data.activity, data.screenId, data.labels?.length ? `labels: ${data.labels.join(", ")}` : null].filter(Boolean).join(" · ");
    case "graph.transition.discovered":
      if (data.by === "time") return `${data.fromScreen} → ${data.toScreen} · while the agent waited`;
      return data.toScreen === null || data.toScreen === undefined
        ? `${data.fromScreen} → left the app to ${data.leftTo || "another app"} · ${data.action?.label || ""}`
        : `${data.fromScreen} → ${data.toScreen} · ${data.action?.label || ""}`;
    case "agent.system.dialog":
      return [data.kind, data.message ? `“${data.message}”` : null, `answered ${data.answer ?? "nothing"}`].filter(Boolean).join(" · ");
    case "agent.app.left":
      return [`to ${data.package}`, data.activity, data.actionId ? `by ${data.actionId}` : null].filter(Boolean).join(" · ");
    case "agent.device.recovered": return recovery(data);
    case "agent.llm.called": return modelCall(data);
    case "run.completed":
      return [data.stopReason, ...metrics(data.metrics || {}), data.labels?.length ? `labels: ${data.labels.join(", ")}` : null]
        .filter(Boolean).join(" · ");
    case "run.failed": return [data.stopReason, data.error].filter(Boolean).join(" · ");
    default: return rest(data);
  }
}

// A dead UiAutomator2 server or session replaced: why, how long it took, and the route followed back.
function recovery(data) {
  const seconds = typeof data.seconds === "number" ? `back in ${data.seconds.toFixed(1)} s` : null;
  const route = typeof data.routeLength === "number"
    ? (data.routeLength ? `route of ${plural(data.routeLength, "step")} followed back` : "no route: at the start screen") : null;
  return [(data.cause || "unknown cause").replaceAll("_", " "), seconds, route].filter(Boolean).join(" · ");
}

// One use of the language model: what it was asked, whether its answer was used (or why not), and its cost.
function modelCall(data) {
  const purpose = { rank: "rank actions", choose: "choose action", goal: "goal check" }[data.purpose] || data.purpose;
  const outcome = data.outcome === "fallback" ? `fallback: ${(data.reason || "unknown").replaceAll("_", " ")}` : data.outcome;
  const answer = data.purpose === "goal" && typeof data.goalReached === "boolean"
    ? (data.goalReached ? "goal reached" : "not yet") : null;
  const cost = data.cached ? "cached" : `${data.promptTokens} + ${data.completionTokens} tokens · ${Math.round(data.latencyMs)} ms`;
  return [purpose, answer, outcome, data.reason === "budget" ? null : cost, data.model || null].filter(Boolean).join(" · ");
}

function metrics(m) {
  const seconds = m.durationMs !== undefined ? `${(m.durationMs / 1000).toFixed(1)} s` : null;
  const model = m.llmCalls ? `${plural(m.llmCalls, "model call")} · ${m.promptTokens + m.completionTokens} tokens` : null;
  return [`${m.steps} steps`, `${m.screensDiscovered} screens`, `${m.transitions} transitions`,
          m.errors ? `${m.errors} errors` : null, m.appLeft ? `left the app ${m.appLeft}×` : null,
          m.systemDialogs ? plural(m.systemDialogs, "system dialog") : null,
          m.recoveries ? `${m.recoveries} device recover${m.recoveries > 1 ? "ies" : "y"}` : null,
          m.waitSeconds ? `waited ${m.waitSeconds} s` : null, model, seconds].filter((part) => part && !part.startsWith("undefined"));
}

function rest(data) {
  const { runId, seq, ts, ...others } = data;
  const text = Object.entries(others).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ");
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}
