// One run's page: live from its SSE stream, or replayed once it has ended (the same page is the report).
// Events are queued as they arrive and applied in animation frames within a time budget, so a
// replay of thousands of events never blocks the page.
import { ApiError, TERMINAL, blobUrl, call, el, followRun, showSignOut } from "./common.js";
import { Findings } from "./findings.js";
import { ScreenGraph, shortActivity } from "./graph.js";
import { RunMemory } from "./memory.js";
import { Timeline } from "./timeline.js";

const FRAME_BUDGET_MS = 8;
const BACKLOG_DRAW_MS = 500; // while replaying a backlog, the graph and screenshot catch up this often
const STATUS_AFTER = {
  "run.queued": "queued", "run.started": "running", "run.pause_requested": "pausing", "run.paused": "paused",
  "run.resumed": "queued", "run.cancel_requested": "cancelling",
  "run.completed": "completed", "run.failed": "failed", "run.canceled": "canceled",
};
const $ = (id) => document.getElementById(id);

const runId = decodeURIComponent(location.pathname.split("/").filter(Boolean).at(-1));
const artifactPath = (artifactId) => `run/${runId}/artifacts/${artifactId}`;
const state = { status: "unknown", step: 0, screens: 0, transitions: 0, events: 0, shot: null, shown: null, ended: false,
                llm: { calls: 0, requests: 0, tokens: 0, fallbacks: 0 } }; // the model's use (the llm policy)
const queue = [];
let graph = null;
let framePending = false;
let drawnAt = 0;
let closeStream = null;
const timeline = new Timeline($("timeline"));
const findings = new Findings($("findings-card"), { runId, artifactPath });
const memory = new RunMemory(runId, findings);

function received(event) {
  queue.push(event);
  if (!framePending) { framePending = true; requestAnimationFrame(drain); }
}

function drain() {
  framePending = false;
  const until = performance.now() + FRAME_BUDGET_MS;
  let done = 0;
  while (done < queue.length && performance.now() < until) apply(queue[done++]);
  queue.splice(0, done); // once a frame: shift() per event is quadratic on a long backlog
  const settled = queue.length === 0;
  render();
  if (settled || performance.now() - drawnAt > BACKLOG_DRAW_MS) { // the costly parts: not every frame of a replay
    drawnAt = performance.now();
    findings.render();
    graph?.flush(settled);
    showScreenshot();
  }
  if (!settled) { framePending = true; requestAnimationFrame(drain); }
}

function apply(event) {
  const { name, data } = event;
  state.events += 1;
  if (STATUS_AFTER[name]) state.status = STATUS_AFTER[name];
  // Reproducing findings comes after exploring, outside maxSteps: the step figure is exploration's.
  // Replays once exploring ended (its findings', an older version's): steps outside maxSteps
  if (name === "agent.node.started" && ["Reproduce", "CheckFixed"].includes(data.nodeName)) state.reproducing = true;
  if (!state.reproducing && data.stepOrdinal > state.step) state.step = data.stepOrdinal;
  if (name === "run.queued") state.maxSteps = data.maxSteps;
  if (TERMINAL.has(name)) { state.ended = true; state.stopReason = data.stopReason; }
  if (name === "agent.screen.perceived") {
    state.shot = { artifact: data.artifacts?.screenshot, activity: data.activity, step: data.stepOrdinal };
    graph?.screenSeen(data.screenId, data.activity, data.artifacts?.screenshot);
  }
  if (name === "graph.screen.discovered") { state.screens += 1; graph?.screen(data.screenId, data.activity, data.labels); }
  if (name === "graph.transition.discovered") {
    if (data.toScreen) state.transitions += 1; // leaving the app is no transition of the app's graph (nor of its metrics)
    graph?.transition(data.fromScreen, data.toScreen, data.action || {}, data.leftTo, data.by);
  }
  if (name === "run.completed") completed(data);
  if (name === "agent.llm.called") countModelCall(data);
  findings.add(event);
  memory.add(event);
  timeline.add(event);
}

// What the run met (login walls, other apps, system dialogs, a dead device server, an app that went on by
// itself): its labels and counts, said by run.completed.
function completed(data) {
  const m = data.metrics || {};
  state.outcome = { labels: Array.isArray(data.labels) ? data.labels : [], appLeft: m.appLeft, systemDialogs: m.systemDialogs,
                    recoveries: m.recoveries, waitSeconds: m.waitSeconds, knownFromMemory: m.knownFromMemory }; // a warm run's
}

function renderOutcome() {
  const outcome = state.outcome;
  if (!outcome || state.outcomeShown === outcome) return;
  state.outcomeShown = outcome;
  $("run-labels-fact").hidden = false;
  $("run-labels").replaceChildren(...(outcome.labels.length
    ? outcome.labels.map((l) => el("span", { class: `tag run-label label-${l}`, dataset: { label: l } }, l.replaceAll("_", " ")))
    : [el("span", { class: "muted" }, "none")]));
  $("app-left-fact").hidden = outcome.appLeft === undefined;
  $("app-left").textContent = outcome.appLeft ?? "";
  $("system-dialogs-fact").hidden = outcome.systemDialogs === undefined;
  $("system-dialogs").textContent = outcome.systemDialogs ?? "";
  $("recoveries-fact").hidden = outcome.recoveries === undefined; // older runs' metrics have neither
  $("recoveries").textContent = outcome.recoveries ?? "";
  $("wait-seconds-fact").hidden = outcome.waitSeconds === undefined;
  $("wait-seconds").textContent = outcome.waitSeconds ?? "";
  $("known-from-memory-fact").hidden = outcome.knownFromMemory === undefined;
  $("known-from-memory").textContent = outcome.knownFromMemory ?? "";
}

function countModelCall(data) {
  const llm = state.llm;
  llm.calls += 1;
  if (!data.cached && data.reason !== "budget") llm.requests += 1; // a cached answer or a spent budget sends nothing
  llm.tokens += (data.promptTokens || 0) + (data.completionTokens || 0);
  if (data.outcome === "fallback") llm.fallbacks += 1;
}

function render() {
  Object.assign($("status"), { className: `badge status-${state.status}`, textContent: state.status });
  $("step").textContent = state.step;
  $("max-steps").textContent = state.maxSteps ?? "?";
  $("screens").textContent = state.screens;
  $("transitions").textContent = state.transitions;
  $("event-count").textContent = state.events;
  $("findings-count").textContent = findings.size;
  $("stop-reason-fact").hidden = !state.stopReason;
  $("stop-reason").textContent = (state.stopReason || "").replaceAll("_", " ");
  const llm = state.llm;
  $("llm-fact").hidden = llm.calls === 0;
  $("llm-requests").textContent = llm.requests;
  $("llm-detail").textContent = [`${llm.tokens} tokens`, llm.fallbacks ? `${llm.fallbacks} fallback${llm.fallbacks > 1 ? "s" : ""}` : null]
    .filter(Boolean).join(" · ");
  renderOutcome();
  document.title = `${state.status} · Run ${runId}`;
  if (state.ended) $("connection").textContent = "ended: this page is the run's report";
  setButtons();
}

// The latest screenshot: one fetch at a time, and only of the newest one (a replay skips the rest).
async function showScreenshot() {
  const shot = state.shot;
  if (!shot?.artifact || shot.artifact === state.shown || state.fetching) return;
  state.fetching = true;
  try {
    const url = await blobUrl(artifactPath(shot.artifact));
    const img = $("screenshot");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = url;
    img.hidden = false;
    img.dataset.artifact = shot.artifact;
    $("no-screen").hidden = true;
    $("screen-caption").textContent = `step ${shot.step} · ${shortActivity(shot.activity)}`;
    state.shown = shot.artifact;
  } catch {
    state.shown = shot.artifact; // gone or refused: not worth retrying every frame
  } finally {
    state.fetching = false;
  }
  if (state.shot !== shot) showScreenshot();
}

// --- steering: the buttons reflect the run's state and show the API's answer, errors included

function setButtons() {
  const s = state.status;
  const busy = state.requesting;
  $("cancel").disabled = busy || state.ended || s === "cancelling" || s === "unknown";
  $("pause").disabled = busy || state.ended || !["queued", "running"].includes(s);
  $("resume").disabled = busy || state.ended || s !== "paused";
}

async function steer(verb, done) {
  const message = $("action-message");
  state.requesting = true;
  setButtons();
  try {
    const answer = await call(`run/${runId}/${verb}`, { method: "POST" });
    message.className = "action-message ok";
    message.textContent = done(answer);
  } catch (error) {
    message.className = "action-message error";
    message.textContent = error instanceof ApiError
      ? `${verb} refused (${error.status}${error.code ? ` ${error.code}` : ""}): ${error.message}`
      : `${verb} failed: the service cannot be reached`;
  } finally {
    state.requesting = false;
    setButtons();
  }
}

$("cancel").onclick = () => steer("cancel", () => "Cancel requested: the run stops at its next step boundary.");
$("pause").onclick = () => steer("pause", () => "Pause requested: the run stops at its next step boundary.");
$("resume").onclick = () => steer("resume", () => "Resumed: the run is queued for the next free device.");

// --- start

function notFound() {
  closeStream?.();
  $("run").hidden = true;
  $("not-found").hidden = false;
  $("connection").textContent = "";
  document.title = "Run not found";
}

function follow() {
  closeStream = followRun(runId, {
    onEvent: received,
    onState: (s) => { if (!state.ended) $("connection").textContent = s === "live" ? "live" : "reconnecting…"; },
    onFail: (status) => {
      if (status === 404 || status === 400) return notFound();
      if (status === null) return follow(); // a key was just given: try again with it
      $("connection").textContent = `stream failed (${status || "network"})`;
    },
  });
}

async function start() {
  $("run-id").textContent = runId;
  showSignOut();
  let run;
  try {
    run = await call(`run/${runId}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) return notFound();
    $("message").textContent = "The service cannot be reached.";
    $("message").hidden = false;
    return;
  }
  const app = run.app || {};
  $("app-name").textContent = app.packageName || "";
  $("app-activity").textContent = app.appActivity || "";
  findings.packageName = app.packageName || ""; // the app's own frames of a stack are shown apart
  if (run.goal) Object.assign($("goal"), { hidden: false, textContent: `goal: ${run.goal}` });
  if (run.policy) Object.assign($("policy"), { hidden: false, textContent: `policy: ${run.policy}` });
  state.policy = run.policy;
  state.maxSteps = run.maxSteps;
  memory.show(run);
  showSignOut();
  graph = new ScreenGraph($("graph"), $("preview"), artifactPath);
  follow();
}

window.runPage = { state, timeline, findings, memory, get graph() { return graph; } }; // for the browser tests and the benchmark
start();
