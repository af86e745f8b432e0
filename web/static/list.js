// The runs page: GET /runs, newest first, one page at a time; refreshed while runs on it are live.
import { ApiError, LIVE_STATUSES, age, call, el, runHref, showSignOut, statusBadge, versionLabel } from "./common.js";

const PAGE_SIZE = 25;
const REFRESH_MS = 2000;

const rows = new Map(); // runId -> <tr>, so a refresh updates rows in place
const state = { status: new URLSearchParams(location.search).get("status") || "", cursors: [null], timer: null };

const tbody = document.querySelector("#runs tbody");
const filter = document.getElementById("status-filter");
const message = document.getElementById("message");

function cells(run) {
  const link = el("a", { href: runHref(run.run_id), class: "run-id" }, run.run_id);
  return [
    link,
    statusBadge(run.status),
    run.stop_reason ? el("span", { class: "reason" }, run.stop_reason.replaceAll("_", " ")) : "",
    el("span", { title: run.apk_path || "" }, run.package_name || ""),
    el("span", { class: "policy-name" }, run.policy || ""),
    `${run.steps_taken} / ${run.max_steps}`,
    String(run.screens_discovered),
    run.findings ? el("span", { class: "findings-count", title: "what broke: crashes, ANRs, accessibility problems" }, String(run.findings))
      : el("span", { class: "muted" }, String(run.findings ?? 0)),
    el("time", { datetime: run.created_at, title: new Date(run.created_at).toLocaleString() }, age(run.created_at)),
    versionCell(run),
  ];
}

// The app's version, and "warm" for a run that started from the app's map. An older server sends neither.
function versionCell(run) {
  const warm = run.memory === "warm"
    ? el("span", { class: "tag memory-warm", title: "memory: warm (started from what earlier runs of the app learned)" }, "warm")
    : null;
  return el("span", { class: "run-version" }, run.version === undefined ? null : versionLabel(run.version), warm && " ", warm);
}

function renderRow(run) {
  let tr = rows.get(run.run_id);
  if (!tr) {
    tr = el("tr", { dataset: { runId: run.run_id } });
    rows.set(run.run_id, tr);
  }
  tr.dataset.status = run.status;
  tr.replaceChildren(...cells(run).map((content, i) => el("td", { class: i >= 5 && i <= 7 ? "num" : null }, content)));
  return tr;
}

function render(list) {
  const seen = new Set(list.runs.map((r) => r.run_id));
  for (const [id, tr] of rows) if (!seen.has(id)) { tr.remove(); rows.delete(id); }
  list.runs.forEach((run) => tbody.append(renderRow(run))); // append moves a row: keeps the API's order
  document.getElementById("empty").hidden = list.runs.length > 0;
  const page = state.cursors.length;
  document.getElementById("newer").disabled = page === 1;
  document.getElementById("older").disabled = !list.next;
  document.getElementById("page-info").textContent = page > 1 ? `page ${page}` : "";
  state.next = list.next;
  return list.runs.some((r) => LIVE_STATUSES.has(r.status));
}

async function load() {
  clearTimeout(state.timer);
  const query = new URLSearchParams({ limit: PAGE_SIZE });
  if (state.status) query.set("status", state.status);
  const before = state.cursors.at(-1);
  if (before) query.set("before", before);
  let live = false;
  try {
    live = render(await call(`runs?${query}`));
    message.hidden = true;
  } catch (error) {
    message.textContent = error instanceof ApiError ? error.message : "The service cannot be reached.";
    message.hidden = false;
    live = true; // try again: the service may be back
  }
  // The newest page can gain runs at any time; older pages change only while a run on them is live.
  if (live || state.cursors.length === 1) state.timer = setTimeout(refreshWhenVisible, REFRESH_MS);
}

function refreshWhenVisible() {
  if (document.hidden) document.addEventListener("visibilitychange", load, { once: true });
  else load();
}

function restart() {
  state.cursors = [null];
  const url = new URL(location.href);
  if (state.status) url.searchParams.set("status", state.status);
  else url.searchParams.delete("status");
  history.replaceState(null, "", url);
  load();
}

filter.value = state.status;
filter.onchange = () => { state.status = filter.value; restart(); };
document.getElementById("older").onclick = () => { state.cursors.push(state.next); load(); };
document.getElementById("newer").onclick = () => { state.cursors.pop(); load(); };
showSignOut();
load();
