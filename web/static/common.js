// What both pages share: the API key, calls to the public API, the run stream, and small formatters.
import { EventSource } from "eventsource";

const KEY = "runservice.apiKey";
const JSON_HEADERS = { Accept: "application/json" };

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

// --- the API key: asked for once (on the first 401), then sent as Authorization: Bearer on every call

export function apiKey() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

function authHeaders(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

let asking = null; // one dialog for every call that got a 401 at the same time

function askForKey(refused) {
  asking ??= new Promise((resolve) => {
    const dialog = document.getElementById("key-dialog");
    const form = dialog.querySelector("form");
    dialog.querySelector(".key-refused").hidden = !refused;
    form.elements.key.value = "";
    dialog.oncancel = (event) => event.preventDefault(); // Escape would leave the page waiting for a key
    form.onsubmit = (event) => {
      event.preventDefault();
      const key = form.elements.key.value.trim();
      if (!key) return;
      sessionStorage.removeItem(KEY);
      localStorage.removeItem(KEY);
      (form.elements.remember.checked ? localStorage : sessionStorage).setItem(KEY, key);
      dialog.close();
      asking = null;
      showSignOut();
      resolve();
    };
    dialog.showModal();
    form.elements.key.focus();
  });
  return asking;
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

export function showSignOut() {
  const link = document.getElementById("forget-key");
  if (!link) return;
  link.hidden = !apiKey();
  link.onclick = (event) => {
    event.preventDefault();
    forgetKey();
    location.reload();
  };
}

// --- calls, relative to the API's base (the app may be served under a route prefix)

export function apiBase() {
  return new URL(document.querySelector('meta[name="api-base"]').content, location.href);
}

export function apiUrl(path) {
  return new URL(path, apiBase());
}

export async function call(path, { method = "GET" } = {}) {
  const response = await fetch(apiUrl(path), { method, headers: authHeaders(JSON_HEADERS) });
  if (response.status === 401) {
    await askForKey(Boolean(apiKey()));
    return call(path, { method });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// The artifacts need the key too, so an <img> gets them as an object URL, not by its src.
export async function blobUrl(path) {
  const response = await fetch(apiUrl(path), { headers: authHeaders() });
  if (!response.ok) throw new ApiError(response.status, null);
  return URL.createObjectURL(await response.blob());
}

// A text file of the API (a page source, say), fetched with the key.
export async function fetchText(path) {
  const response = await fetch(apiUrl(path), { headers: authHeaders() });
  if (!response.ok) throw new ApiError(response.status, null);
  return response.text();
}

// EventSource (the `eventsource` package: fetch-based, so it sends our headers) dispatches each
// named event to listeners of that name; this hook sees them all, new kinds included.
class RunEventSource extends EventSource {
  dispatchEvent(event) {
    if (event.type !== "open" && event.type !== "error" && event.data !== undefined) this.onAnyEvent?.(event);
    return super.dispatchEvent(event);
  }
}

/**
 * Follows a run's SSE stream: its history, then live. After a drop the reader reconnects with
 * Last-Event-ID, so nothing is missed or repeated; `onEvent` also ignores any seq it already had.
 * Returns a function that closes the stream. `onFail(status)` is told of a 404 and the like.
 */
export function followRun(runId, { onEvent, onState, onFail }) {
  let lastSeq = 0;
  const source = new RunEventSource(apiUrl(`run/${encodeURIComponent(runId)}/stream`), {
    fetch: (url, init) => fetch(url, { ...init, headers: authHeaders(init.headers) }),
  });
  source.onAnyEvent = (message) => {
    const seq = Number(message.lastEventId);
    if (!(seq > lastSeq)) return;
    lastSeq = seq;
    const event = { seq, name: message.type, data: JSON.parse(message.data) };
    onEvent(event);
    if (TERMINAL.has(event.name)) source.close(); // the server closes too: do not reconnect
  };
  source.onopen = () => onState("live");
  source.onerror = async (error) => {
    if (source.readyState === source.CONNECTING) return onState("reconnecting");
    if (error.code === 401) {
      await askForKey(Boolean(apiKey()));
      onFail(null);
      return;
    }
    onFail(error.code ?? 0);
  };
  return () => source.close();
}

export const TERMINAL = new Set(["run.completed", "run.failed", "run.canceled"]);
export const LIVE_STATUSES = new Set(["queued", "running", "paused"]);

// --- small formatters

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function statusBadge(status) {
  const name = String(status || "unknown").toLowerCase();
  return el("span", { class: `badge status-${name}` }, name);
}

export function age(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

// Local wall-clock time with milliseconds. By hand: toLocaleTimeString costs more than the rest of a row.
export function clock(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, "0")}`;
}

export function appName(packageName) {
  return packageName || "";
}

// A run's page, relative to the API's base (the app may be served under a route prefix).
export function runHref(runId) {
  return new URL(`runs/${encodeURIComponent(runId)}`, apiBase()).pathname;
}

// An app version {versionCode, versionName}: the name to read, the code on hover; "—" when unknown.
export function versionLabel(version) {
  const { versionCode: code, versionName: name } = version || {};
  const hasCode = code !== undefined && code !== null;
  if (!hasCode && !name) return el("span", { class: "app-version muted", title: "version unknown" }, "—");
  return el("span", { class: "app-version", title: hasCode ? `versionCode ${code}` : "no versionCode",
                      dataset: { versionCode: hasCode ? code : "" } }, name || String(code));
}

// A version key of the app's map: str(versionCode), else versionName, else the run's id (a version unknown).
export function versionKey(key, runId) {
  return key && key !== runId ? `version ${key}` : `run ${String(runId || "?").slice(0, 10)}…`;
}
