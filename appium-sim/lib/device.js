'use strict';
// The simulated device: installed apps, which one is in the foreground, each
// app's screen stack (one "visit" per screen shown, holding what was typed) and
// the rules of APP_MODEL.md (when / goto / set / back / toast / crash / anr).
// A visit also keeps where its lists and its screen are scrolled to, so back
// and return finds them where they were (as Android restores a list's position).
// Crashes and ANRs happen as on a phone: the process dies (or stops answering),
// a system dialog comes up, and the session's logcat tells what happened.
const {SCREEN, VIEWPORT, DEFAULT_DENSITY, layoutScreen} = require('./layout');
const {fullActivity} = require('./model');
const {Logcat} = require('./logcat');
const recorded = require('./recorded');
const {PermissionState, permissionMethods, PERMISSION_PACKAGE, PERMISSION_ACTIVITY} = require('./permissions');
const {keyboardMethods} = require('./keyboard');
const {webMethods} = require('./web');
const {otherAppMethods} = require('./otherapps');
const {timerMethods} = require('./timers');

const LAUNCHER_PACKAGE = 'com.android.launcher3';
const LAUNCHER_ACTIVITY = '.Launcher';
const SYSTEM_PACKAGE = 'android';
const DIALOG_ACTIVITY = {crash: 'com.android.server.am.AppErrorDialog', anr: 'com.android.server.am.AppNotRespondingDialog'};
const APP_STATE = {NOT_INSTALLED: 0, NOT_RUNNING: 1, BACKGROUND: 3, FOREGROUND: 4};
const TEMPLATE = /\{([A-Za-z0-9_.-]+)\}/g;
const SHELL_UID = 2000; // `am start` from adb (how Appium activates an app)
const FIRST_PID = 4213;
const MAX_SHOW_DEPTH = 16; // onShow rules leading from screen to screen: a loop stops there

class SimError extends Error {}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** How far a scrollable screen can scroll: its content below the viewport. */
function maxScrollY(screen, density) {
  return Math.max(0, layoutScreen(screen, density).bottom - VIEWPORT.bottom);
}

/** A 32-bit seed from a capability value: an integer as it is, anything else hashed (FNV-1a). */
function seedOf(value) {
  if (Number.isInteger(value)) return value >>> 0;
  let h = 0x811c9dc5;
  for (const ch of String(value)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** mulberry32: a small seeded generator of numbers in [0, 1); the same seed, the same sequence. */
function seededRandom(seed) {
  let a = seedOf(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class App {
  constructor(model, appId) {
    this.model = model;
    this.uid = 10000 + appId;
    this.user = `u0a${appId}`;
    this.editableIds = new Set();
    for (const s of Object.values(model.screens)) {
      for (const el of s.elements) if (el.editable && el.id) this.editableIds.add(el.id);
    }
    this.perms = new PermissionState(); // kept across processes, lost with the app (reinstall)
    this.stop();
  }

  stop() {
    this.perms.processEnded();
    this.request = null; // a permission dialog on screen: {queue, rule, handler, serial}
    this.caller = null; // the app that opened this one (back from the first screen returns there)
    this.running = false;
    this.pid = null;
    this.stack = [];
    this.checked = new Map(); // "<screen>#<index>" -> bool, kept while the process lives
    this.lastTyped = {};
  }

  get visit() {
    return this.stack[this.stack.length - 1];
  }

  /** What logcat names the process by. */
  get proc() {
    return {pkg: this.model.package, pid: this.pid, uid: this.uid, user: this.user};
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
  /**
   * @param seed    seeds the draws of crash rules' `probability` (appium:simSeed)
   * @param density the screen's dpi (appium:simDensity)
   * @param now     the clock ANRs are timed by
   * @param display {width, height} of the screen in px (a recorded app's, or 1080x2400)
   */
  constructor({seed = 0, density = DEFAULT_DENSITY, now = Date.now, display = SCREEN, autoGrant = false} = {}) {
    this.display = {width: display.width, height: display.height};
    this.apps = new Map();
    this.fg = null; // package in the foreground, null = launcher
    this.serial = 0;
    this.version = 0; // bumped on every change: caches of the view key on it
    this.launcherSerial = 0;
    this.toast = null;
    this.density = density;
    this.now = now;
    this.random = seededRandom(seed); // one sequence per session, across relaunches
    this.logcat = new Logcat(now);
    this.nextPid = FIRST_PID;
    this.nextAppId = 150;
    this.dialog = null; // the system's crash or ANR dialog on screen: {kind, pkg, label, serial}
    this.freeze = null; // an app that stopped answering: {pkg, until, activity}, until its ANR is dealt with
    this.autoGrant = autoGrant; // appium:autoGrantPermissions: every declared permission granted at install
    this.launches = new Map(); // package -> processes started in this session (`when: {launch: n}`)
    this.onceDone = new WeakSet(); // `once` rules that applied
    this.keyboard = null; // the soft keyboard: {pkg, serial} of the screen visit it came up on
    this.showDepth = 0;
    this.timing = null; // the visit on screen waiting for its `after`, and since when: {visit, since}
  }

  changed() {
    this.version++;
  }

  /** Install an app (again: its process ends, its state goes) and the other apps its model holds, if missing. */
  install(model) {
    const old = this.apps.get(model.package);
    if (old) this.terminate(model.package);
    const app = new App(model, old ? old.uid - 10000 : this.nextAppId++);
    if (this.autoGrant) app.perms.grantAll(model.permissions ?? []);
    this.apps.set(model.package, app);
    for (const other of Object.values(model.otherApps ?? {})) if (!this.apps.has(other.package)) this.install(other);
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
    return this.fg === pkg && !this.dialog && !recorded.inOtherApp(app) ? APP_STATE.FOREGROUND : APP_STATE.BACKGROUND;
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

  /**
   * Start (fresh) or resume an app and bring it to the foreground. A system dialog goes away
   * (an app hung behind an ANR dialog is closed first); an app that hangs in the foreground
   * cannot be brought there again: nothing happens.
   */
  activate(pkg, screenName = null) {
    const app = this.requireApp(pkg);
    if (this.inputBlocked() && this.freeze.pkg === pkg && screenName === null) return;
    if (this.dialog) this.dialogAction(this.dialog.kind === 'anr' ? 'close' : 'dismiss');
    const fresh = screenName !== null || !app.running;
    if (fresh) {
      if (app.running) this.terminate(pkg); // `am start -S`: the running process goes first
      this.logcat.started(app.proc, app.model.screens[screenName ?? app.model.start].activity, SHELL_UID);
      this.startProcess(app, screenName ?? app.model.start);
    } else {
      recorded.backToApp(app); // another app's recorded screens over it go: the app's own task comes back
      this.logcat.started(app.proc, app.visit.screen.activity, SHELL_UID);
    }
    this.toast = null;
    this.keyboard = null;
    this.fg = pkg;
    this.changed();
    if (fresh) this.shown(app);
  }

  /** A new process for the app, showing `screenName`. */
  startProcess(app, screenName) {
    app.stop();
    app.running = true;
    app.pid = this.nextPid;
    this.nextPid += 7 + (this.nextPid % 13); // pids grow, unevenly, as other processes take some
    app.stack = [this.newVisit(app, screenName)];
    this.launches.set(app.model.package, (this.launches.get(app.model.package) ?? 0) + 1);
    this.logcat.processStarted(app.proc, app.visit.screen.activity);
    this.logcat.displayed(app.proc, app.visit.screen.activity, this.launchMs(app.visit));
  }

  /** How long a screen took to draw, as ActivityManager reports it: steady per visit. */
  launchMs(visit) {
    return 180 + ((visit.serial * 53) % 420);
  }

  /** The process ends (logged), the app's state with it. */
  kill(app, reason) {
    if (!app.running) return;
    this.logcat.killed(app.proc, reason);
    if (this.freeze && this.freeze.pkg === app.model.package) this.freeze = null;
    app.stop();
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

  /** `am force-stop`: the process ends and a dialog about it goes too. */
  terminate(pkg) {
    const app = this.apps.get(pkg);
    this.dismissDialogOf(pkg);
    if (!app || !app.running) return false;
    this.logcat.forceStopped(app.proc);
    if (this.freeze && this.freeze.pkg === pkg) this.freeze = null;
    app.stop();
    if (this.fg === pkg) this.toLauncher();
    this.changed();
    return true;
  }

  dismissDialogOf(pkg) {
    if (this.dialog && this.dialog.pkg === pkg) {
      this.dialog = null;
      this.changed();
    }
  }

  toLauncher() {
    this.fg = null;
    this.keyboard = null;
    this.launcherSerial++;
    this.changed();
  }

  get fgApp() {
    return this.fg ? this.apps.get(this.fg) : null;
  }

  home() {
    if (this.inputBlocked()) return;
    this.toast = null;
    if (this.dialog) return this.dialogAction('home');
    if (this.fg) this.toLauncher();
    this.changed();
  }

  back() {
    if (this.inputBlocked()) return;
    this.toast = null;
    if (this.dialog) return this.dialogAction('back');
    if (this.permissionDialog()) return this.answerPermission('deny'); // back answers deny
    if (this.hideKeyboard()) return this.changed(); // back with the keyboard up only hides it
    const app = this.fgApp;
    if (app && app.visit.screen.recorded) return this.recordedAction({kind: 'back'});
    if (app) this.backIn(app);
    this.changed();
  }

  /** The app in the foreground when it shows a recorded screen (no system dialog over it), else null. */
  get recordedApp() {
    const app = this.fgApp;
    return app && !this.dialog && app.visit.screen.recorded ? app : null;
  }

  /**
   * An action on a recorded screen ({kind, point, direction}): the first recorded transition it
   * matches applies; without one nothing changes, except that back returns to the screen the app
   * came from (or, on the first, sends the app to the background).
   */
  recordedAction(action) {
    if (this.inputBlocked()) return;
    const app = this.recordedApp;
    if (!app) return;
    this.toast = null;
    this.changed();
    const visit = app.visit;
    const t = recorded.matchTransition(visit.screen, action);
    if (!t) {
      if (action.kind === 'back') this.backIn(app);
      return;
    }
    if (t.crash && this.draw() < t.crash.probability) {
      return this.crash(app, t.crash, action.kind === 'long_press' ? 'onLongClick' : 'onClick');
    }
    if (t.to === null || t.to === visit.screen.name) return;
    if (action.kind === 'back' || recorded.isSystemDialog(visit.screen)) { // an answered dialog goes, as back
      // back to a screen on the stack returns to that visit; to another, it takes the top's place
      const idx = app.stack.findLastIndex((v) => v.screen.name === t.to);
      if (idx >= 0) app.stack.length = idx + 1;
      else app.stack[app.stack.length - 1] = this.newVisit(app, t.to);
      return;
    }
    app.stack.push(this.newVisit(app, t.to));
    if (app.visit.screen.activity !== visit.screen.activity) this.opened(app, app.visit);
  }

  /** Text into a node of a recorded screen (`key` "#<k>"); `asAction`: setting text, a `type` action at `point`. */
  recordedType(key, text, point, asAction) {
    if (this.inputBlocked()) return;
    const app = this.recordedApp;
    if (!app) return;
    const visit = app.visit;
    visit.typed[key] = text;
    visit.focused = key;
    this.changed();
    if (asAction) this.recordedAction({kind: 'type', point});
  }

  /** Whether the screen now shown has a recorded scroll that way (scrollGesture's answer on a recorded app). */
  recordedCanScroll(direction) {
    const app = this.recordedApp;
    return Boolean(app) && recorded.canScroll(app.visit.screen, direction);
  }

  backIn(app) {
    this.keyboard = null;
    const top = app.visit;
    const {back} = top.screen;
    if (back === null || (back === 'pop' && app.stack.length <= 1)) {
      if (app.caller && this.returnToCaller(app)) return; // an opened app's first screen: back to its caller
      this.toLauncher(); // the task moves to the background, resumes where it was
    } else if (back === 'pop') {
      app.stack.pop();
    } else {
      const idx = app.stack.findLastIndex((v) => v.screen.name === back);
      if (idx >= 0) app.stack.length = idx + 1;
      else app.stack[app.stack.length - 1] = this.newVisit(app, back);
    }
    if (app.visit !== top && !top.screen.recorded) this.shown(app);
  }

  /** The app's current screen was shown (launch, goto, back): the first of its `onShow` rules that fires applies. */
  shown(app) {
    const visit = app.visit;
    if (!app.running || !visit || !visit.screen.onShow || app.request || this.showDepth >= MAX_SHOW_DEPTH) return;
    const rule = visit.screen.onShow.find((r) => this.fires(app, visit, r));
    if (!rule) return;
    this.showDepth++;
    try {
      this.apply(app, visit, rule, 'onShow');
    } finally {
      this.showDepth--;
    }
  }

  /** An uncaught exception on the main thread: the stack in logcat, the process gone, the crash dialog up. */
  crash(app, crash, handler) {
    this.keyboard = null;
    this.logcat.crashed(app.proc, app.visit.screen.activity, crash, handler);
    app.stop(); // the next activation starts a new process at `start`
    this.showDialog('crash', app);
    if (this.fg === app.model.package) this.toLauncher(); // what is behind the dialog
  }

  /** The main thread stops answering: for `seconds` nothing changes and input is lost, then the ANR dialog. */
  hang(app, anr) {
    this.freeze = {pkg: app.model.package, until: this.now() + anr.seconds * 1000, activity: app.visit.screen.activity};
    this.tick();
  }

  /** The clock moved: an app hung long enough gets its ANR dialog; a screen shown long enough applies its `after`. */
  tick() {
    this.tickFreeze();
    this.fireTimers();
  }

  /** An app hung long enough gets its ANR dialog (logged as of when it was due). */
  tickFreeze() {
    const f = this.freeze;
    if (!f || this.dialog || f.shown || this.now() < f.until) return;
    f.shown = true;
    const app = this.apps.get(f.pkg);
    this.logcat.notResponding(app.proc, f.activity, f.until);
    this.showDialog('anr', app);
  }

  /** An app hangs and its dialog is not up yet: touches and keys go nowhere. */
  inputBlocked() {
    return Boolean(this.freeze && !this.freeze.shown);
  }

  showDialog(kind, app) {
    this.toast = null;
    this.dialog = {kind, pkg: app.model.package, label: app.model.label, serial: ++this.serial};
    this.changed();
  }

  /**
   * A crash dialog goes away whatever is pressed, leaving the launcher ("App info" would open
   * Settings, which this device does not have). On an ANR dialog, Wait (and back) lets the app
   * go on where it was; home leaves it running in the background; Close app ends it.
   */
  dialogAction(action) {
    const {kind, pkg} = this.dialog;
    this.dialog = null;
    this.changed();
    if (kind === 'crash') return;
    const app = this.apps.get(pkg);
    if (action === 'wait' || action === 'back') {
      this.freeze = null;
    } else if (action === 'home') {
      this.freeze = null;
      if (this.fg === pkg) this.toLauncher();
    } else {
      this.kill(app, 'user request after error');
      if (this.fg === pkg) this.toLauncher();
    }
  }

  /** The next number of the session's sequence: whether a crash rule's `probability` comes true. */
  draw() {
    return this.random();
  }

  /** Click an element of the current view (a record from view.js). */
  click(rec) {
    if (this.inputBlocked()) return;
    this.toast = null;
    this.changed();
    if (rec.dialogAction) return this.dialogAction(rec.dialogAction);
    if (rec.permissionAction) return this.answerPermission(rec.permissionAction);
    if (rec.launcherApp) return this.activate(rec.launcherApp);
    if (rec.key === undefined || !rec.enabled) return;
    const app = this.fgApp;
    const visit = app.visit;
    const {el} = rec;
    if (el.editable) {
      visit.focused = rec.key;
      this.showKeyboard(app);
    }
    if (!el.clickable && !el.checkable) return;
    if (el.checkable) {
      app.checked.set(`${visit.screen.name}#${rec.key}`, !app.isChecked(visit.screen, rec.key, el));
    }
    const rule = el.onClick.find((r) => this.fires(app, visit, r));
    if (rule) this.apply(app, visit, rule, 'onClick');
  }

  /** A press held 500 ms or more: the element's `onLongClick` rules; nothing without them. */
  longClick(rec) {
    if (this.inputBlocked()) return;
    this.toast = null;
    this.changed();
    if (rec.key === undefined || !rec.enabled) return;
    const app = this.fgApp;
    const rule = rec.el.onLongClick.find((r) => this.fires(app, app.visit, r));
    if (rule) this.apply(app, app.visit, rule, 'onLongClick');
  }

  /**
   * Scroll a list (a record of an element with `items`) or the screen (the ScrollView record)
   * by `percent` of its height; `direction` is where the content comes from: "down" shows later
   * items. Stops at either end. Returns whether more can still come that way (UiAutomator2's answer).
   */
  scroll(rec, direction, percent) {
    const app = this.fgApp;
    if (!app || !rec || !rec.scrollable || rec.covered || this.inputBlocked()) return false;
    const sign = {down: 1, up: -1}[direction] ?? 0; // lists here scroll vertically only
    this.toast = null;
    this.changed();
    const visit = app.visit;
    if (rec.scrollView) {
      const max = maxScrollY(visit.screen, this.density);
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

  /** Whether a rule applies now: its `when` matches, and a `once` rule has not applied yet. */
  fires(app, visit, rule) {
    return !(rule.once && this.onceDone.has(rule)) && this.matches(app, visit, rule.when);
  }

  matches(app, visit, when) {
    if (!when) return true;
    return Object.entries(when).every(([id, want]) => {
      if (id === 'launch') return (this.launches.get(app.model.package) ?? 0) === want;
      if (id.startsWith('permission:')) return (app.perms.isGranted(id.slice('permission:'.length)) ? 'granted' : 'denied') === want;
      if (typeof want === 'boolean') {
        const i = visit.screen.elements.findIndex((e) => e.id === id && e.checkable);
        return i >= 0 && app.isChecked(visit.screen, String(i), visit.screen.elements[i]) === want;
      }
      // a field of this screen is what it shows now; any other id, what was typed last on the way here
      const field = visit.screen.elements.some((e) => e.id === id && e.editable);
      const typed = field ? visit.typed[id] : app.typedValue(id);
      return (typed ?? '') === want;
    });
  }

  /**
   * A rule fires. A crash rule draws once from the session's sequence: drawn, the app crashes and
   * nothing else happens; not drawn, the rule's other effects apply. An `anr` rule only hangs the app.
   */
  apply(app, visit, rule, handler) {
    if (rule.once) this.onceDone.add(rule);
    if (rule.request) return this.request(app, rule, handler);
    if (rule.crash && this.draw() < rule.crash.probability) return this.crash(app, rule.crash, handler);
    if (rule.anr) return this.hang(app, rule.anr);
    if (rule.set) Object.assign(visit.sets, rule.set);
    if (rule.toast !== undefined) this.toast = {text: app.fill(rule.toast), pkg: app.model.package};
    if (rule.goto) {
      this.keyboard = null;
      const from = visit.screen.activity;
      app.stack.push(this.newVisit(app, rule.goto));
      // `set` may name elements of the screen it leads to
      const target = app.visit;
      for (const [id, text] of Object.entries(rule.set || {})) {
        if (target.screen.elements.some((e) => e.id === id)) target.sets[id] = text;
      }
      if (target.screen.activity !== from) this.opened(app, target);
    }
    if (rule.back) this.backIn(app); // shows the screen it returns to (its onShow)
    else if (rule.goto) this.shown(app);
    if (rule.open) this.openApp(app, rule.open, rule.screen ?? null);
  }

  /** The app started one of its activities: ActivityManager's lines for it. */
  opened(app, visit) {
    this.logcat.started(app.proc, visit.screen.activity, app.uid);
    this.logcat.displayed(app.proc, visit.screen.activity, this.launchMs(visit));
  }

  /** Replace the text typed into an editable element of the current screen. */
  type(rec, text) {
    if (this.inputBlocked()) return; // the keys go to a window that does not answer
    const app = this.fgApp;
    if (rec.covered) throw new SimError(`Element '${rec.resourceId || rec.className}' is under a dialog: it takes no input`);
    if (!app || rec.key === undefined) throw new SimError('Element is not an editable field');
    const visit = app.visit;
    const {el} = rec;
    if (!el.editable) throw new SimError(`Element '${rec.resourceId || rec.className}' is not editable`);
    if (!el.enabled) throw new SimError(`Element '${rec.resourceId || rec.className}' is disabled`);
    this.toast = null;
    visit.focused = rec.key;
    this.showKeyboard(app);
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
    if (this.dialog) return DIALOG_ACTIVITY[this.dialog.kind];
    if (this.permissionDialog()) return PERMISSION_ACTIVITY;
    return this.fgApp ? this.fgApp.visit.screen.activity : LAUNCHER_ACTIVITY;
  }

  currentPackage() {
    if (this.dialog) return SYSTEM_PACKAGE;
    if (this.permissionDialog()) return PERMISSION_PACKAGE;
    return recorded.shownPackage(this.fgApp) ?? this.fg ?? LAUNCHER_PACKAGE; // a recorded dialog's, other app's
  }
}

Object.assign(Device.prototype, permissionMethods, keyboardMethods, webMethods, otherAppMethods, timerMethods);

module.exports = {
  Device, App, SimError, APP_STATE, LAUNCHER_PACKAGE, LAUNCHER_ACTIVITY, SYSTEM_PACKAGE, DIALOG_ACTIVITY, SCREEN,
  seededRandom,
};
