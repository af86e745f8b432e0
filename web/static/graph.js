// The screen graph drawn as it grows: cytoscape.js with the dagre layout (web/package.json).
// Additions are queued and applied together once a frame; the layout runs at most a few times a second.
import { blobUrl, el } from "./common.js";

const LAYOUT_EVERY_MS = 400;
const DAGRE_MAX_SCREENS = 40;
const STYLE = [
  { selector: "node", style: {
    shape: "round-rectangle", width: 150, height: 40,
    "background-color": "#ffffff", "border-width": 1.5, "border-color": "#8a94a6",
    label: "data(label)", "font-size": 11, "font-family": "system-ui, sans-serif", color: "#1f2937",
    "text-valign": "center", "text-halign": "center", "text-wrap": "wrap", "text-max-width": "142px", "text-overflow-wrap": "anywhere" } },
  { selector: "node.unseen", style: { "border-style": "dashed", color: "#6b7280", "background-color": "#f8fafc" } },
  { selector: "node.current", style: { "border-color": "#2563eb", "border-width": 3, "background-color": "#eff6ff" } },
  { selector: "node.first", style: { "font-weight": "bold" } },
  // A labelled screen (login, webview, blank, dialog: what the agent met there) says so on a third line.
  { selector: "node.labelled", style: { height: 52 } },
  { selector: "node.label-login", style: { "border-color": "#b45309", "background-color": "#fffbeb" } },
  { selector: "node.label-blank", style: { "background-color": "#f3f4f6" } },
  { selector: "node.leaves", style: { "border-style": "double", "border-width": 4 } }, // an action there left the app
  { selector: "node:selected", style: { "overlay-opacity": 0.08, "overlay-color": "#2563eb" } },
  { selector: "edge", style: {
    width: 1.2, "line-color": "#a3adbd", "target-arrow-color": "#a3adbd", "target-arrow-shape": "triangle",
    "curve-style": "bezier", "arrow-scale": 0.8 } },
  { selector: "edge:loop", style: { "loop-direction": "0deg", "loop-sweep": "-50deg", "control-point-step-size": 36 } },
  // The screen changed by itself while the agent waited (a splash, a loading feed): no action's edge, so
  // dashed and always labelled "wait" (there are few of them).
  { selector: "edge.by-time", style: {
    "line-style": "dashed", "line-dash-pattern": [6, 4], "line-color": "#b45309", "target-arrow-color": "#b45309",
    label: "data(label)", "font-size": 10, "font-style": "italic", color: "#92400e", "text-rotation": "autorotate",
    "text-background-color": "#ffffff", "text-background-opacity": 0.9, "text-background-padding": "2px" } },
  // An edge's action shows only around the screen under the pointer: all of them at once hide the graph.
  { selector: "edge.lit", style: {
    width: 2, "line-color": "#2563eb", "target-arrow-color": "#2563eb", "z-index": 10, label: "data(label)",
    "font-size": 10, color: "#1e3a8a", "text-rotation": "autorotate", "text-background-color": "#ffffff",
    "text-background-opacity": 0.9, "text-background-padding": "2px" } },
];

export class ScreenGraph {
  constructor(container, preview, artifactPath) {
    this.container = container;
    this.preview = preview;
    this.artifactPath = artifactPath; // artifact id -> API path
    this.screens = new Map(); // screenId -> {activity, shot, visits, seen, labels, exits}
    this.pending = { nodes: new Map(), edges: new Map() };
    this.edgeIds = new Set();
    this.current = null;
    this.images = new Map(); // artifact id -> Promise of an object URL
    if (window.cytoscapeDagre) window.cytoscape.use(window.cytoscapeDagre);
    this.cy = window.cytoscape({ container, style: STYLE, minZoom: 0.2, maxZoom: 2.5 });
    this.bindPreview();
  }

  screenSeen(screenId, activity, shot) {
    const screen = this.screen(screenId, activity);
    screen.seen = true;
    screen.visits += 1;
    if (shot) screen.shot = shot;
    this.current = screenId;
  }

  /** `by` "time": the screen changed by itself while the agent waited (`action` is then the wait). */
  transition(from, to, action, leftTo, by) {
    const source = this.screen(from);
    if (!to) { // the action left the app: no screen of the app, so no edge; the screen it left from says where to
      const exit = `${leftTo || "another app"} · ${action.label || action.kind || action.action_id || ""}`;
      if (!source.exits.includes(exit)) source.exits.push(exit);
      return;
    }
    this.screen(to);
    const id = `${from}>${to}>${action.action_id || action.label}`;
    if (this.edgeIds.has(id)) return;
    this.edgeIds.add(id);
    const byTime = by === "time";
    this.pending.edges.set(id, { id, source: from, target: to, label: byTime ? "wait" : action.label || action.kind || "",
                                 ...(byTime ? { by } : {}) });
  }

  screen(screenId, activity, labels) {
    let screen = this.screens.get(screenId);
    if (!screen) {
      screen = { activity: activity || "", shot: null, visits: 0, seen: false, first: this.screens.size === 0,
                 labels: [], exits: [] };
      this.screens.set(screenId, screen);
    }
    if (activity) screen.activity = activity;
    if (labels?.length) screen.labels = [...labels];
    this.pending.nodes.set(screenId, screen);
    return screen;
  }

  /** Applies what arrived since the last frame: one batch, then a (throttled) layout. While a
   *  backlog is being replayed (`settled` false) the layout waits for its end: one layout, not hundreds. */
  flush(settled = true) {
    const { nodes, edges } = this.pending;
    if (!nodes.size && !edges.size && this.drawnCurrent === this.current && !(this.unlaid && settled)) return;
    let grew = false;
    this.cy.batch(() => {
      for (const [id, screen] of nodes) grew = this.drawNode(id, screen) || grew;
      for (const edge of edges.values()) {
        this.cy.add({ group: "edges", data: edge, classes: edge.by === "time" ? "by-time" : "" });
        grew = true;
      }
      this.cy.nodes(".current").removeClass("current");
      if (this.current) this.cy.getElementById(this.current).addClass("current");
    });
    this.drawnCurrent = this.current;
    nodes.clear();
    edges.clear();
    this.container.dataset.nodes = this.cy.nodes().length;
    this.container.dataset.edges = this.cy.edges().length;
    this.unlaid ||= grew;
    if (this.unlaid && settled) {
      this.unlaid = false;
      this.scheduleLayout();
    }
  }

  drawNode(id, screen) {
    const tags = screen.labels.length ? `\n${screen.labels.map((l) => `‹${l}›`).join(" ")}` : "";
    const label = `${shortActivity(screen.activity) || "not seen yet"}\n${id.slice(0, 6)}${tags}`;
    const classes = [screen.seen ? "" : "unseen", screen.first ? "first" : "", screen.labels.length ? "labelled" : "",
                     ...screen.labels.map((l) => `label-${l}`), screen.exits.length ? "leaves" : ""].filter(Boolean).join(" ");
    const node = this.cy.getElementById(id);
    if (node.nonempty()) {
      node.data({ label, labels: [...screen.labels], exits: [...screen.exits] });
      node.classes(classes);
      return false;
    }
    // Until the next layout, a new screen sits beside the one it was reached from.
    const near = this.cy.getElementById(this.drawnCurrent || "");
    const position = near.nonempty() ? { x: near.position("x") + 160, y: near.position("y") + 40 } : { x: 0, y: 0 };
    this.cy.add({ group: "nodes", data: { id, label, labels: [...screen.labels], exits: [...screen.exits] }, classes, position });
    return true;
  }

  // At once for the first screens, then spaced out while the graph grows: at least LAYOUT_EVERY_MS
  // apart, and ten times as long as the last layout took, so a big graph's layouts stay a small share.
  scheduleLayout() {
    if (this.layoutTimer) { this.layoutAgain = true; return; }
    const started = performance.now();
    this.layout();
    const pause = Math.max(LAYOUT_EVERY_MS, 10 * (performance.now() - started));
    this.layoutTimer = setTimeout(() => {
      this.layoutTimer = null;
      if (this.layoutAgain) { this.layoutAgain = false; this.scheduleLayout(); }
    }, pause);
  }

  layout() {
    // dagre draws the clearest graph, but its cost grows much faster than the graph: past a few
    // dozen screens the linear breadth-first layout keeps the page responsive.
    const dagre = window.cytoscapeDagre && this.cy.nodes().length <= DAGRE_MAX_SCREENS;
    const first = this.cy.nodes(".first");
    const options = dagre ? { name: "dagre", rankDir: "LR", nodeSep: 24, rankSep: 70, edgeSep: 8 }
      : { name: "breadthfirst", directed: true, spacingFactor: 0.9, roots: first.nonempty() ? first : undefined };
    this.cy.layout({ ...options, fit: false, animate: false }).run();
    this.cy.fit(undefined, 24);
    if (this.cy.zoom() > 1.1) { this.cy.zoom(1.1); this.cy.center(); } // a few screens stay life-size
    if (!this.preview.hidden) this.placePreview(this.cy.getElementById(this.previewed));
  }

  // Hover shows a screen's latest screenshot beside it; a click pins it until the next click.
  bindPreview() {
    this.cy.on("mouseover", "node", (e) => { if (!this.pinned) this.showPreview(e.target); });
    this.cy.on("mouseout", "node", () => { if (!this.pinned) this.hidePreview(); });
    this.cy.on("tap", "node", (e) => {
      this.pinned = this.pinned === e.target.id() ? null : e.target.id();
      if (this.pinned) this.showPreview(e.target);
      else this.hidePreview();
    });
    this.cy.on("tap", (e) => { if (e.target === this.cy) { this.pinned = null; this.hidePreview(); } });
    this.cy.on("pan zoom", () => { if (!this.preview.hidden) this.placePreview(this.cy.getElementById(this.previewed)); });
  }

  async showPreview(node) {
    const screen = this.screens.get(node.id());
    if (!screen) return;
    this.hidePreview();
    this.previewed = node.id();
    node.connectedEdges().addClass("lit");
    const [img, text] = [this.preview.querySelector("img"), this.preview.querySelector(".preview-text")];
    text.replaceChildren(`${screen.activity || "not perceived yet"} · ${screen.visits} visit${screen.visits === 1 ? "" : "s"}`);
    if (screen.labels.length) {
      text.append(el("div", { class: "preview-labels" }, ...screen.labels.map((l) => el("span", { class: `tag screen-label label-${l}` }, l))));
    }
    for (const exit of screen.exits) text.append(el("div", { class: "preview-exit" }, `leaves the app: ${exit}`));
    this.preview.dataset.screenId = node.id();
    img.hidden = !screen.shot;
    img.removeAttribute("src");
    this.placePreview(node);
    this.preview.hidden = false;
    if (screen.shot) {
      const url = await this.image(screen.shot).catch(() => null);
      if (url && this.previewed === node.id()) img.src = url;
    }
  }

  hidePreview() {
    this.preview.hidden = true;
    this.cy.edges(".lit").removeClass("lit");
  }

  placePreview(node) {
    if (node.empty()) return;
    const box = node.renderedBoundingBox();
    const right = box.x2 + 12 + this.preview.offsetWidth < this.container.clientWidth;
    this.preview.style.left = `${right ? box.x2 + 12 : Math.max(4, box.x1 - 12 - (this.preview.offsetWidth || 180))}px`;
    this.preview.style.top = `${Math.max(4, box.y1 - 20)}px`;
  }

  image(artifactId) {
    if (!this.images.has(artifactId)) this.images.set(artifactId, blobUrl(this.artifactPath(artifactId)));
    return this.images.get(artifactId);
  }
}

export function shortActivity(activity) {
  return (activity || "").split(".").filter(Boolean).at(-1) || activity || "";
}
