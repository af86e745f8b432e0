'use strict';
// Recorded apps (APP_MODEL.md, "Recorded real apps"): screens captured from a real app (page source,
// screenshot) and the transitions a recording saw. This module reads and checks such a model and says
// which transition an action of the agent matches; device.js applies it, view.js serves the screens.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const jpeg = require('jpeg-js');
const {PNG} = require('pngjs');
const {ModelError, parseCrash, str, isObj, fail} = require('./validation');
const {parseRecordedSource, landsOn, findNode, centre, PageSourceError} = require('./pagesource');

const KINDS = new Set(['tap', 'long_press', 'type', 'scroll', 'back']);
const DIRECTIONS = new Set(['up', 'down', 'left', 'right']);
const LOCATOR_KEYS = ['resource-id', 'text', 'content-desc', 'class'];
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_JPEG_MB = 256;
// A recorded screen's `package`: the system's permission dialog over the app, or another app it opened
const PERMISSION_PACKAGES = new Set(['com.android.permissioncontroller', 'com.google.android.permissioncontroller']);
const JAVA_PACKAGE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * A file a model names: relative to the model's folder and inside it (no absolute path, no `..`, no
 * link leading out). A missing one refuses the model, naming it. Returns the file's bytes.
 */
function readInside(dir, rel, where) {
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel)) {
    fail(where, `"${rel}" is an absolute path: a recorded app names its files relative to the model file's folder ${dir}`);
  }
  if (rel.split(/[\\/]+/).includes('..')) fail(where, `"${rel}" leads out of the model file's folder (no ".." allowed)`);
  const file = path.resolve(dir, rel);
  let real;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') fail(where, `the file "${rel}" is missing (${file})`);
    fail(where, `the file "${rel}" is unreadable (${file}): ${e.message}`);
  }
  const realDir = fs.realpathSync(dir);
  if (real !== realDir && !real.startsWith(realDir + path.sep)) {
    fail(where, `"${rel}" is a link leading out of the model file's folder (to ${real})`);
  }
  try {
    if (!fs.statSync(real).isFile()) fail(where, `"${rel}" is not a file (${file})`);
    return fs.readFileSync(real);
  } catch (e) {
    if (e instanceof ModelError) throw e;
    return fail(where, `the file "${rel}" is unreadable (${file}): ${e.message}`);
  }
}

function pageSourceOf(raw, dir, where) {
  const value = str(raw, where, {allowNumber: false});
  const inline = value.trimStart().startsWith('<');
  const text = inline ? value : readInside(dir, value, where).toString('utf8');
  try {
    return parseRecordedSource(text);
  } catch (e) {
    if (e instanceof PageSourceError) fail(inline ? where : `${where} (${value})`, `not a page source: ${e.message}`);
    throw e;
  }
}

/** `{bytes, format}` of a screenshot given as a path or a data: URI, PNG or JPEG; null when absent. */
function screenshotOf(raw, dir, where) {
  if (raw === undefined || raw === null) return null;
  const value = str(raw, where, {allowNumber: false});
  let bytes;
  let name = value;
  if (/^data:/i.test(value)) {
    const comma = value.indexOf(',');
    if (comma < 0) fail(where, 'a data: URI needs a "," before its data');
    const meta = value.slice(5, comma);
    const data = value.slice(comma + 1);
    if (/;base64$/i.test(meta)) bytes = Buffer.from(data, 'base64');
    else {
      try {
        bytes = Buffer.from(decodeURIComponent(data), 'latin1');
      } catch {
        fail(where, 'the data: URI is neither base64 nor well percent-encoded');
      }
    }
    name = 'the data: URI';
  } else {
    bytes = readInside(dir, value, where);
  }
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_MAGIC)) return {bytes, format: 'png'};
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return {bytes, format: 'jpeg'};
  return fail(where, `${name === value ? `"${value}"` : name} is not a PNG or JPEG image`);
}

// Converting a phone-sized JPEG takes this server's one thread about a second (jpeg-js is plain
// JavaScript): each picture is converted once per server, whichever session shows it first.
const KEPT_CONVERSIONS = 64;
const conversions = new Map(); // sha1 of the JPEG -> PNG bytes (null: it could not be decoded)

function jpegToPng(bytes) {
  const key = crypto.createHash('sha1').update(bytes).digest('hex');
  if (conversions.has(key)) {
    const png = conversions.get(key);
    conversions.delete(key); // kept again as the newest
    conversions.set(key, png);
    return png;
  }
  let png = null;
  try {
    const img = jpeg.decode(bytes, {useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: MAX_JPEG_MB});
    const out = new PNG({width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false});
    out.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    png = PNG.sync.write(out, {colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 3, filterType: 1});
  } catch {
    png = null; // a broken JPEG: the screen is drawn from its page source instead
  }
  if (conversions.size >= KEPT_CONVERSIONS) conversions.delete(conversions.keys().next().value);
  conversions.set(key, png);
  return png;
}

/** The screenshot as PNG bytes (a JPEG converted), or null when it cannot be read. */
function screenshotPng(shot) {
  if (shot.png === undefined) shot.png = shot.format === 'png' ? shot.bytes : jpegToPng(shot.bytes);
  return shot.png;
}

function parseAction(raw, where) {
  if (!isObj(raw)) fail(where, 'must be an object {kind, at | element, direction}');
  const kind = str(raw.kind, `${where}.kind`, {allowNumber: false});
  if (!KINDS.has(kind)) fail(`${where}.kind`, `unknown kind "${kind}" (kinds: ${[...KINDS].join(', ')})`);
  const action = {kind};
  if (raw.at !== undefined && raw.at !== null) {
    if (!Array.isArray(raw.at) || raw.at.length !== 2 || !raw.at.every(Number.isFinite)) {
      fail(`${where}.at`, `must be a point [x, y], got ${JSON.stringify(raw.at)}`);
    }
    action.at = raw.at.map(Math.round);
  }
  if (raw.element !== undefined && raw.element !== null) {
    if (!isObj(raw.element)) fail(`${where}.element`, 'must be an object of resource-id, text, content-desc, class, nth');
    const attrs = {};
    for (const key of LOCATOR_KEYS) {
      if (raw.element[key] !== undefined && raw.element[key] !== null) attrs[key] = str(raw.element[key], `${where}.element.${key}`);
    }
    if (!Object.keys(attrs).length) fail(`${where}.element`, `names no node: give one of ${LOCATOR_KEYS.join(', ')}`);
    const nth = raw.element.nth ?? 0;
    if (!Number.isInteger(nth) || nth < 0) fail(`${where}.element.nth`, `must be a whole number from 0, got ${JSON.stringify(raw.element.nth)}`);
    action.element = {attrs, nth};
  }
  if (kind !== 'back' && !action.at && !action.element) fail(where, `a ${kind} needs "at" (a point) or "element" (a locator)`);
  if (kind === 'scroll') {
    const direction = String(raw.direction ?? '').toLowerCase();
    if (!DIRECTIONS.has(direction)) {
      fail(`${where}.direction`, `a scroll needs a direction: up, down, left or right; got ${JSON.stringify(raw.direction)}`);
    }
    action.direction = direction;
  }
  return action;
}

function parseTransition(raw, where, {screens, pkg}) {
  if (!isObj(raw)) fail(where, 'a transition must be an object {from, action, to | crash}');
  const known = (v, w) => {
    const name = str(v, w, {allowNumber: false});
    if (!Object.hasOwn(screens, name)) fail(w, `unknown screen "${name}" (screens: ${Object.keys(screens).join(', ')})`);
    return name;
  };
  const from = known(raw.from, `${where}.from`);
  const action = parseAction(raw.action, `${where}.action`);
  const t = {from, action, to: null, crash: null};
  if (raw.to !== undefined && raw.to !== null) t.to = known(raw.to, `${where}.to`);
  const named = action.element && (action.element.attrs['resource-id'] || action.element.attrs.text);
  t.crash = parseCrash(raw.crash, `${where}.crash`, {
    pkg, activity: screens[from].activity, elementId: named ? String(named).split(':id/').pop() : action.kind,
    handler: action.kind === 'long_press' ? 'onLongClick' : 'onClick',
  });
  if (t.to === null && !t.crash) fail(where, 'needs "to" (the screen the action led to) or "crash"');
  return t;
}

/** The screens and transitions of a `"format": "recorded"` model; `dir` is the model file's folder. */
function parseRecorded(doc, dir, {pkg, start}) {
  const screens = {};
  for (const [name, raw] of Object.entries(doc.screens)) {
    const where = `screens.${name}`;
    if (!isObj(raw)) fail(where, 'a screen must be an object');
    const activity = str(raw.activity, `${where}.activity`, {allowNumber: false});
    if (!activity.trim()) fail(`${where}.activity`, 'must not be empty');
    if (raw.pageSource === undefined || raw.pageSource === null) {
      fail(`${where}.pageSource`, 'a recorded screen needs its page source (a file path or inline XML)');
    }
    const recorded = pageSourceOf(raw.pageSource, dir, `${where}.pageSource`);
    recorded.screenshot = screenshotOf(raw.screenshot, dir, `${where}.screenshot`);
    const shownPkg = screenPackage(raw.package, `${where}.package`, pkg);
    if (shownPkg && name === start) fail(where, `is the start screen: the app's first screen is its own, not ${shownPkg}'s`);
    screens[name] = {name, activity, back: 'pop', scrollable: false, elements: [], recorded, package: shownPkg};
  }
  let transitions = doc.transitions ?? [];
  if (!Array.isArray(transitions)) fail('transitions', 'must be a list of {from, action, to | crash}');
  transitions = transitions.map((t, i) => parseTransition(t, `transitions[${i}]`, {screens, pkg}));
  const bySource = new Map(Object.keys(screens).map((n) => [n, []]));
  for (const t of transitions) bySource.get(t.from).push(t);
  for (const [name, list] of bySource) screens[name].transitions = list;
  const first = screens[start].recorded;
  return {screens, transitions, display: {width: first.width, height: first.height}};
}

/** A screen's `package`: null when it is the app's (absent, or the model's own package). */
function screenPackage(raw, where, pkg) {
  if (raw === undefined || raw === null) return null;
  const value = str(raw, where, {allowNumber: false});
  if (!JAVA_PACKAGE.test(value)) fail(where, `"${value}" is not a Java package name like com.android.permissioncontroller`);
  return value === pkg ? null : value;
}

/** A recorded screen of the permission controller: the system's dialog over the app, in the app's task. */
function isSystemDialog(screen) {
  return Boolean(screen && screen.package && PERMISSION_PACKAGES.has(screen.package));
}

/** A recorded screen of another app the app opened (a browser): over the app, which waits below. */
function isOtherApp(screen) {
  return Boolean(screen && screen.package && !PERMISSION_PACKAGES.has(screen.package));
}

/** The package a running recorded app shows when its screen is not its own (a dialog, another app), else null. */
function shownPackage(app) {
  const visit = app && app.running ? app.visit : null;
  return visit && visit.screen.recorded ? visit.screen.package : null;
}

/** Whether the app in front shows another app's recorded screen (the app itself is then in the background). */
function inOtherApp(app) {
  return Boolean(app && app.running && app.visit && app.visit.screen.recorded && isOtherApp(app.visit.screen));
}

/**
 * Activating the app while another app's screens are over it brings the app's own task back: the
 * screen that opened them. Returns whether any went.
 */
function backToApp(app) {
  if (!app.running || !app.stack) return false;
  const before = app.stack.length;
  while (app.stack.length > 1 && isOtherApp(app.stack[app.stack.length - 1].screen)) app.stack.pop();
  return app.stack.length !== before;
}

const nodeCache = new WeakMap(); // transition -> the node it acts on (screens do not change)

/** The node a recorded transition acts on: its `element`'s (where an action on it lands), else its point's. */
function transitionNode(screen, t) {
  if (nodeCache.has(t)) return nodeCache.get(t);
  const {kind, element, at} = t.action;
  let node = null;
  const named = element ? findNode(screen.recorded, element) : null;
  if (named) node = landsOn(screen.recorded, kind, centre(named.bounds));
  else if (at) node = landsOn(screen.recorded, kind, at);
  nodeCache.set(t, node);
  return node;
}

/**
 * The first transition of the screen that an action matches: the same kind (a scroll: the same
 * direction) on the same node. `action` is {kind, point, direction}; back has no point. Back on
 * another app's screen matches none: it returns to the screen below (the app's that opened it).
 */
function matchTransition(screen, action) {
  // back from another app's screen walks the stack (the app screen that opened it), whatever was recorded
  if (action.kind === 'back' && isOtherApp(screen)) return null;
  const node = action.kind === 'back' ? null : landsOn(screen.recorded, action.kind, action.point);
  return screen.transitions.find((t) => t.action.kind === action.kind
    && (action.kind !== 'scroll' || t.action.direction === action.direction)
    && (action.kind === 'back' || transitionNode(screen, t) === node)) ?? null;
}

/** UiAutomator2's scrollGesture answer on a recorded screen: whether it has a recorded scroll that way. */
function canScroll(screen, direction) {
  return screen.transitions.some((t) => t.action.kind === 'scroll' && t.action.direction === direction);
}

module.exports = {
  parseRecorded, matchTransition, canScroll, screenshotPng, centre,
  PERMISSION_PACKAGES, isSystemDialog, isOtherApp, shownPackage, inOtherApp, backToApp,
};
