'use strict';
// The simulated device: installed apps, which one is in the foreground, each
// app's screen stack (one "visit" per screen shown, holding what was typed) and
// the rules of APP_MODEL.md (when / goto / set / back / toast / crash).
// A visit also keeps where its lists and its screen are scrolled to, so back
// and return finds them where they were (as Android restores a list's position).
const {SCREEN, VIEWPORT, layoutScreen} = require('./layout');
const {fullActivity} = require('./model');

const LAUNCHER_PACKAGE = 'com.android.launcher3';
const LAUNCHER_ACTIVITY = '.Launcher';
const APP_STATE = {NOT_INSTALLED: 0, NOT_RUNNING: 1, BACKGROUND: 3, FOREGROUND: 4};
const TEMPLATE = /\{([A-Za-z0-9_.-]+)\}/g;

class SimError extends Error {}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** How far a scrollable screen can scroll: its content below the viewport. */
function maxScrollY(screen) {
  return Math.max(0, layoutScreen(screen).bottom - VIEWPORT.bottom);
}

class App {
  constructor(model) {
    this.model = model;
    this.editableIds = new Set();
    for (const s of Object.values(model.screens)) {
      for (const el of s.elements) if (el.editable && el.id) this.editableIds.add(el.id);
    }
    this.stop();
  }

  stop() {
    this.running = false;
    this.crashed = false;
    this.stack = [];
    this.checked = new Map(); // "<screen>#<index>" -> bool, kept while the process lives
    this.lastTyped = {};
  }

  get visit() {
    return this.stack[this.stack.length - 1];
  }

  typedValue(id) {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      if (Object.hasOwn(this.stack[i].typed, id)) return this.stack[i].typed[id];
    }
    return this.lastTyped[id];
  }

  fill(text) {
    if (!text || !text.includes('{')) return text;
    return text.replace(TEMPLATE, (m, name) => {
      if (!this.editableIds.has(name)) return m;
      return this.typedValue(name) ?? '';
    });
  }

  /** `key`: "3" for the screen's element 3, "3/7" for item 7 of the list that element 3 is. */
  isChecked(screen, key, el) {
    const v = this.checked.get(`${screen.name}#${key}`);
    return v === undefined ? el.checked : v;
  }
}

class Device {
  constructor() {
    this.apps = new Map();
    this.fg = null; // package in the foreground, null = launcher
    this.serial = 0;
    this.version = 0; // bumped on every change: caches of the view key on it
    this.launcherSerial = 0;
    this.toast = null;
  }

  changed() {
    this.version++;
  }

  install(model) {
    const old = this.apps.get(model.package);
    if (old) this.terminate(model.package);
    this.apps.set(model.package, new App(model));
    this.changed();
  }

  remove(pkg) {
    if (!this.apps.has(pkg)) return false;
    this.terminate(pkg);
    this.apps.delete(pkg);
    this.changed();
    return true;
  }

  isInstalled(pkg) {
    return this.apps.has(pkg);
  }

  appState(pkg) {
    const app = this.apps.get(pkg);
    if (!app) return APP_STATE.NOT_INSTALLED;
    if (!app.running) return APP_STATE.NOT_RUNNING;
    return this.fg === pkg ? APP_STATE.FOREGROUND : APP_STATE.BACKGROUND;
  }

  requireApp(pkg) {
    const app = this.apps.get(pkg);
    if (!app) throw new SimError(`App '${pkg}' is not installed`);
    return app;
  }

  newVisit(app, screenName) {
    return {
      serial: ++this.serial, screen: app.model.screens[screenName], typed: {}, sets: {}, focused: null,
      first: {}, scrollY: 0, // first item shown per list (by element key), and the screen's scroll offset
    };
  }

  /** Start (fresh) or resume an app and bring it to the foreground. */
  activate(pkg, screenName = null) {
    const app = this.requireApp(pkg);
    if (screenName !== null || !app.running || app.crashed) {
      app.stop();
      app.running = true;
      app.stack = [this.newVisit(app, screenName ?? app.model.start)];
    }
    this.toast = null;
    this.fg = pkg;
    this.changed();
  }

  /** Launch like `am start -n pkg/activity`: a fresh process on the screen with that activity. */
  launchActivity(pkg, activity) {
    const app = this.requireApp(pkg);
    const wanted = fullActivity(pkg, activity);
    const screens = Object.values(app.model.screens);
    const start = app.model.screens[app.model.start];
    const target = fullActivity(pkg, start.activity) === wanted ? start
      : screens.find((s) => fullActivity(pkg, s.activity) === wanted);
    if (!target) {
      const known = [...new Set(screens.map((s) => s.activity))].join(', ');
      throw new SimError(`Cannot start activity '${activity}' of ${pkg}: the app has no such activity (activities: ${known})`);
    }
    this.activate(pkg, target.name);
  }

  terminate(pkg) {
    const app = this.apps.get(pkg);
    if (!app || !app.running) return false;
    app.stop();
    if (this.fg === pkg) this.toLauncher();
    this.changed();
    return true;
  }

  toLauncher() {
    this.fg = null;
    this.launcherSerial++;
    this.changed();
  }

  get fgApp() {
    return this.fg ? this.apps.get(this.fg) : null;
  }

  home() {
    this.toast = null;
    if (this.fg) this.toLauncher();
    this.changed();
  }

  back() {
    this.toast = null;
    const app = this.fgApp;
    if (app) this.backIn(app);
    this.changed();
  }

  backIn(app) {
    const {back} = app.visit.screen;
    if (back === null || (back === 'pop' && app.stack.length <= 1)) {
      this.toLauncher(); // the task moves to the background, resumes where it was
    } else if (back === 'pop') {
      app.stack.pop();
    } else {
      const idx = app.stack.findLastIndex((v) => v.screen.name === back);
      if (idx >= 0) app.stack.length = idx + 1;
      else app.stack[app.stack.length - 1] = this.newVisit(app, back);
    }
  }

  crash(app) {
    app.crashed = true; // the next activation starts fresh at `start`
    app.stack = [];
    if (this.fg === app.model.package) this.toLauncher();
  }

  /** Click an element of the current view (a record from view.js). */
  click(rec) {
    this.toast = null;
    this.changed();
    if (rec.launcherApp) return this.activate(rec.launcherApp);
    if (rec.key === undefined || !rec.enabled) return;
    const app = this.fgApp;
    const visit = app.visit;
    const {el} = rec;
    if (el.editable) visit.focused = rec.key;
    if (!el.clickable && !el.checkable) return;
    if (el.checkable) {
      app.checked.set(`${visit.screen.name}#${rec.key}`, !app.isChecked(visit.screen, rec.key, el));
    }
    const rule = el.onClick.find((r) => this.matches(app, visit, r.when));
    if (rule) this.apply(app, visit, rule);
  }

  /** A press held 500 ms or more: the element's `onLongClick` rules; nothing without them. */
  longClick(rec) {
    this.toast = null;
    this.changed();
    if (rec.key === undefined || !rec.enabled) return;
    const app = this.fgApp;
    const rule = rec.el.onLongClick.find((r) => this.matches(app, app.visit, r.when));
    if (rule) this.apply(app, app.visit, rule);
  }

  /**
   * Scroll a list (a record of an element with `items`) or the screen (the ScrollView record)
   * by `percent` of its height; `direction` is where the content comes from: "down" shows later
   * items. Stops at either end. Returns whether more can still come that way (UiAutomator2's answer).
   */
  scroll(rec, direction, percent) {
    const app = this.fgApp;
    if (!app || !rec || !rec.scrollable) return false;
    const sign = {down: 1, up: -1}[direction] ?? 0; // lists here scroll vertically only
    this.toast = null;
    this.changed();
    const visit = app.visit;
    if (rec.scrollView) {
      const max = maxScrollY(visit.screen);
      const step = Math.max(1, Math.round(percent * (VIEWPORT.bottom - VIEWPORT.top)));
      visit.scrollY = clamp(visit.scrollY + sign * step, 0, max);
      return sign > 0 ? visit.scrollY < max : sign < 0 && visit.scrollY > 0;
    }
    if (!rec.el.items) return false;
    const {el, key} = rec;
    const last = Math.max(0, el.items.length - el.rows);
    const step = Math.max(1, Math.round(percent * el.rows));
    visit.first[key] = clamp((visit.first[key] ?? 0) + sign * step, 0, last);
    return sign > 0 ? visit.first[key] < last : sign < 0 && visit.first[key] > 0;
  }

  matches(app, visit, when) {
    if (!when) return true;
    return Object.entries(when).every(([id, want]) => {
      if (typeof want === 'boolean') {
        const i = visit.screen.elements.findIndex((e) => e.id === id && e.checkable);
        return i >= 0 && app.isChecked(visit.screen, String(i), visit.screen.elements[i]) === want;
      }
      return (app.typedValue(id) ?? '') === want;
    });
  }

  apply(app, visit, rule) {
    if (rule.set) Object.assign(visit.sets, rule.set);
    if (rule.toast !== undefined) this.toast = {text: app.fill(rule.toast), pkg: app.model.package};
    if (rule.goto) {
      app.stack.push(this.newVisit(app, rule.goto));
      // `set` may name elements of the screen it leads to
      const target = app.visit;
      for (const [id, text] of Object.entries(rule.set || {})) {
        if (target.screen.elements.some((e) => e.id === id)) target.sets[id] = text;
      }
    }
    if (rule.back) this.backIn(app);
    if (rule.crash) this.crash(app);
  }

  /** Replace the text typed into an editable element of the current screen. */
  type(rec, text) {
    const app = this.fgApp;
    if (!app || rec.key === undefined) throw new SimError('Element is not an editable field');
    const visit = app.visit;
    const {el} = rec;
    if (!el.editable) throw new SimError(`Element '${rec.resourceId || rec.className}' is not editable`);
    if (!el.enabled) throw new SimError(`Element '${rec.resourceId || rec.className}' is disabled`);
    this.toast = null;
    visit.focused = rec.key;
    if (el.id) {
      visit.typed[el.id] = text;
      app.lastTyped[el.id] = text;
      delete visit.sets[el.id];
    } else {
      visit.typed[`#${rec.key}`] = text;
    }
    this.changed();
  }

  typedText(visit, key, el) {
    const slot = el.id || `#${key}`;
    return Object.hasOwn(visit.typed, slot) ? visit.typed[slot] : null;
  }

  currentActivity() {
    return this.fgApp ? this.fgApp.visit.screen.activity : LAUNCHER_ACTIVITY;
  }

  currentPackage() {
    return this.fg ?? LAUNCHER_PACKAGE;
  }
}

module.exports = {Device, App, SimError, APP_STATE, LAUNCHER_PACKAGE, LAUNCHER_ACTIVITY, SCREEN};
