'use strict';
// Loading and validation of simulated-app models (see ../shared/APP_MODEL.md).
// Unknown keys are ignored; a key the format defines with a wrong shape is
// refused with an error naming where it is (e.g. `screens.home.elements[2].onClick[0].goto`).
const fs = require('node:fs');
const path = require('node:path');
const {SCREEN} = require('./layout');
const {ModelError, isObj, fail, str, parseCrash, fullActivity} = require('./validation');
const {parseRecorded} = require('./recorded');
const {parsePermissions, parseRequest} = require('./permissions');
const {parseWeb} = require('./web');
const {parseAfter} = require('./timers');

const JAVA_PACKAGE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const DEFAULT_ANR_SECONDS = 5; // Android's input dispatching timeout
const BOUNDS = /^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$/;
const BOOL_KEYS = ['clickable', 'editable', 'password', 'checkable', 'checked', 'enabled', 'visible', 'scrollable', 'loading'];
const DEFAULT_ROWS = 5;
const CLICKABLE_CLASSES = new Set([
  'android.widget.Button', 'android.widget.ImageButton', 'android.widget.Switch',
  'android.widget.CheckBox', 'android.widget.RadioButton', 'android.widget.ToggleButton',
]);
const CHECKABLE_CLASSES = new Set([
  'android.widget.Switch', 'android.widget.CheckBox', 'android.widget.RadioButton',
  'android.widget.ToggleButton', 'android.widget.CheckedTextView',
]);

function parseBounds(v, where) {
  if (Array.isArray(v) && v.length === 4 && v.every(Number.isInteger)) {
    v = `[${v[0]},${v[1]}][${v[2]},${v[3]}]`;
  }
  const m = typeof v === 'string' ? BOUNDS.exec(v.replace(/\s+/g, '')) : null;
  if (!m) fail(where, `must look like "[x1,y1][x2,y2]", got ${JSON.stringify(v)}`);
  const [x1, y1, x2, y2] = m.slice(1).map(Number);
  if (x2 < x1 || y2 < y1) fail(where, `x2,y2 must not be smaller than x1,y1 (${v})`);
  return [x1, y1, x2, y2];
}

/**
 * `ctx` says where a rule sits: {screenNames, pkg, activity, elementId, handler ("onClick" | "onLongClick" |
 * "onShow")}, what `crash: true` needs to name a frame in the app's package; `permissions` (declared) and
 * `apps` (package -> screen names of the apps it may open) check `request` and `open`.
 */
function parseRule(raw, where, ctx) {
  const {screenNames} = ctx;
  if (!isObj(raw)) fail(where, 'a rule must be an object');
  const rule = {};
  if (raw.when !== undefined) rule.when = parseWhen(raw.when, `${where}.when`, ctx);
  if (raw.once !== undefined && raw.once !== null) {
    if (typeof raw.once !== 'boolean') fail(`${where}.once`, `must be true or false, got ${JSON.stringify(raw.once)}`);
    if (raw.once) rule.once = true;
  }
  if (raw.request !== undefined && raw.request !== null) return parseRequestRule(raw, rule, where, ctx);
  if (raw.goto !== undefined && raw.goto !== null) {
    const target = str(raw.goto, `${where}.goto`, {allowNumber: false});
    if (!screenNames.has(target)) fail(`${where}.goto`, `unknown screen "${target}" (screens: ${[...screenNames].join(', ')})`);
    rule.goto = target;
  }
  if (raw.set !== undefined) {
    if (!isObj(raw.set)) fail(`${where}.set`, 'must be an object of element id -> text');
    rule.set = {};
    for (const [id, val] of Object.entries(raw.set)) rule.set[id] = str(val, `${where}.set.${id}`);
  }
  if (raw.back !== undefined && raw.back !== null) {
    if (typeof raw.back !== 'boolean') fail(`${where}.back`, `must be true or false, got ${JSON.stringify(raw.back)}`);
    rule.back = raw.back;
  }
  const crash = parseCrash(raw.crash, `${where}.crash`, ctx);
  if (crash) rule.crash = crash;
  const anr = parseAnr(raw.anr, `${where}.anr`);
  if (anr) rule.anr = anr;
  if (raw.toast !== undefined && raw.toast !== null) rule.toast = str(raw.toast, `${where}.toast`);
  if (raw.open !== undefined && raw.open !== null) {
    const pkg = str(raw.open, `${where}.open`, {allowNumber: false});
    const screens = ctx.apps.get(pkg);
    if (!screens) {
      const known = [...ctx.apps.keys()];
      fail(`${where}.open`, `unknown app "${pkg}": the model's otherApps does not define it (otherApps: ${known.length ? known.join(', ') : 'none'})`);
    }
    rule.open = pkg;
    if (raw.screen !== undefined && raw.screen !== null) {
      const screen = str(raw.screen, `${where}.screen`, {allowNumber: false});
      if (!screens.has(screen)) fail(`${where}.screen`, `unknown screen "${screen}" of ${pkg} (screens: ${[...screens].join(', ')})`);
      rule.screen = screen;
    }
  }
  return rule;
}

/** Typed values by element id; `launch` (a number: the n-th launch); `permission:<name>` ("granted" | "denied"). */
function parseWhen(raw, where, ctx) {
  if (!isObj(raw)) fail(where, 'must be an object of element id -> typed value');
  const when = {};
  for (const [id, val] of Object.entries(raw)) {
    if (id === 'launch') {
      if (!Number.isInteger(val) || val < 1) fail(`${where}.launch`, `must be a launch number (1, 2, ...), got ${JSON.stringify(val)}`);
      when[id] = val;
    } else if (id.startsWith('permission:')) {
      const perm = id.slice('permission:'.length);
      if (!ctx.permissions.includes(perm)) {
        fail(`${where}.${id}`, `permission "${perm}" is not declared in the model's permissions (permissions: ${ctx.permissions.join(', ') || 'none'})`);
      }
      if (val !== 'granted' && val !== 'denied') fail(`${where}.${id}`, `must be "granted" or "denied", got ${JSON.stringify(val)}`);
      when[id] = val;
    } else if (typeof val === 'boolean') {
      when[id] = val;
    } else {
      when[id] = str(val, `${where}.${id}`);
    }
  }
  return when;
}

/** `{request: [...], granted: [rules], denied: [rules]}`: what follows the answers goes in those rules. */
function parseRequestRule(raw, rule, where, ctx) {
  for (const key of ['goto', 'set', 'back', 'toast', 'crash', 'anr', 'open']) {
    if (raw[key] !== undefined && raw[key] !== null) {
      fail(`${where}.${key}`, 'a request rule does nothing else: put what follows the answer in its granted or denied rules');
    }
  }
  rule.request = parseRequest(raw.request, `${where}.request`, ctx.permissions);
  rule.granted = parseRules(raw.granted, `${where}.granted`, ctx);
  rule.denied = parseRules(raw.denied, `${where}.denied`, ctx);
  return rule;
}

/** `{seconds}`: how long the app stops answering before the system says so. */
function parseAnr(raw, where) {
  if (raw === undefined || raw === null || raw === false) return null;
  if (raw === true) return {seconds: DEFAULT_ANR_SECONDS};
  if (!isObj(raw)) fail(where, `must be an object {seconds}, got ${JSON.stringify(raw)}`);
  const seconds = raw.seconds ?? DEFAULT_ANR_SECONDS;
  if (typeof seconds !== 'number' || !(seconds >= 0 && seconds <= 600)) {
    fail(`${where}.seconds`, `must be a number of seconds from 0 to 600, got ${JSON.stringify(raw.seconds)}`);
  }
  return {seconds};
}

function parseElement(raw, where, ctx) {
  if (!isObj(raw)) fail(where, 'an element must be an object');
  const el = {};
  el.id = raw.id === undefined || raw.id === null ? '' : str(raw.id, `${where}.id`);
  const elCtx = {...ctx, elementId: el.id};
  el.className = raw.class === undefined ? (raw.text !== undefined ? 'android.widget.TextView' : 'android.view.View')
    : str(raw.class, `${where}.class`, {allowNumber: false});
  if (!el.className) fail(`${where}.class`, 'must not be empty');
  for (const key of ['text', 'desc', 'hint']) {
    el[key] = raw[key] === undefined || raw[key] === null ? '' : str(raw[key], `${where}.${key}`);
  }
  for (const key of BOOL_KEYS) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') {
      fail(`${where}.${key}`, `must be true or false, got ${JSON.stringify(raw[key])}`);
    }
  }
  el.onClick = parseRules(raw.onClick, `${where}.onClick`, {...elCtx, handler: 'onClick'});
  el.onLongClick = parseRules(raw.onLongClick, `${where}.onLongClick`, {...elCtx, handler: 'onLongClick'});
  el.longClickable = el.onLongClick.length > 0;
  el.editable = raw.editable ?? false;
  el.password = raw.password ?? false;
  el.checkable = raw.checkable ?? CHECKABLE_CLASSES.has(el.className);
  el.checked = raw.checked ?? false;
  el.enabled = raw.enabled ?? true;
  el.visible = raw.visible ?? true;
  el.loading = raw.loading ?? false; // shown as an indeterminate ProgressBar while its screen waits (timers.js)
  el.clickable = raw.clickable ?? (raw.onClick !== undefined && raw.onClick !== null
    || CLICKABLE_CLASSES.has(el.className) || el.checkable || el.editable);
  el.bounds = raw.bounds === undefined || raw.bounds === null ? null : parseBounds(raw.bounds, `${where}.bounds`);
  parseItems(el, raw, where, ctx);
  el.web = parseWeb(raw.web, where, el.className, raw.exposed, (rules, at) => parseRules(rules, at, {...elCtx, handler: 'onClick'}));
  return el;
}

/** A scrollable container: `items` shown `rows` at a time (APP_MODEL.md, "Scrolling lists"). */
function parseItems(el, raw, where, ctx) {
  el.items = null;
  el.scrollable = raw.scrollable ?? false;
  if (raw.items === undefined || raw.items === null) return;
  if (!Array.isArray(raw.items)) fail(`${where}.items`, 'must be a list of elements');
  el.items = raw.items.map((item, i) => {
    if (isObj(item) && item.items !== undefined) fail(`${where}.items[${i}].items`, 'list items cannot hold lists');
    if (isObj(item) && item.loading) fail(`${where}.items[${i}].loading`, 'list items cannot be loading: make the list\'s screen wait (after) instead');
    return parseElement(item, `${where}.items[${i}]`, ctx);
  });
  el.rows = raw.rows ?? DEFAULT_ROWS;
  if (!Number.isInteger(el.rows) || el.rows < 1) fail(`${where}.rows`, `must be a positive integer, got ${JSON.stringify(raw.rows)}`);
  el.scrollable = raw.scrollable ?? true;
}

function parseRules(raw, where, ctx) {
  let rules = raw;
  if (rules === undefined || rules === null) rules = [];
  else if (isObj(rules)) rules = [rules];
  else if (!Array.isArray(rules)) fail(where, 'must be a list of rules');
  return rules.map((r, i) => parseRule(r, `${where}[${i}]`, ctx));
}

/**
 * Validate a parsed JSON document; returns the normalized model or throws ModelError. `dir` is the
 * model file's folder, where a recorded model's page sources and screenshots are.
 */
function parseModel(doc, {dir = process.cwd()} = {}) {
  if (!isObj(doc)) fail('(top level)', 'the model must be a JSON object');
  const format = doc.format ?? null;
  if (format !== null && format !== 'recorded') {
    fail('format', `unknown format ${JSON.stringify(format)} (a generated model has none; a recorded one says "recorded")`);
  }
  const pkg = str(doc.package, 'package', {allowNumber: false});
  if (!JAVA_PACKAGE.test(pkg)) fail('package', `"${pkg}" is not a Java package name like com.example.app`);
  if (doc.versionCode !== undefined && !Number.isInteger(doc.versionCode)) fail('versionCode', 'must be an integer');
  const versionName = doc.versionName === undefined ? '' : str(doc.versionName, 'versionName');
  if (!isObj(doc.screens) || Object.keys(doc.screens).length === 0) fail('screens', 'must be a non-empty object of screen name -> screen');
  const screenNames = new Set(Object.keys(doc.screens));
  const start = str(doc.start, 'start', {allowNumber: false});
  if (!screenNames.has(start)) fail('start', `unknown screen "${start}" (screens: ${[...screenNames].join(', ')})`);
  const label = labelOf(doc, pkg);
  const common = {package: pkg, versionCode: doc.versionCode ?? 1, versionName, start, label};
  if (format === 'recorded') {
    return {...common, recorded: true, ...parseRecorded(doc, dir, {pkg, start})};
  }
  // the apps rules may open: otherApps, by package, with their screen names (checked before any rule)
  const othersRaw = doc.otherApps ?? {};
  if (!isObj(othersRaw)) fail('otherApps', 'must be an object of package -> app model');
  const apps = new Map();
  for (const [other, raw] of Object.entries(othersRaw)) {
    const where = `otherApps.${other}`;
    if (!JAVA_PACKAGE.test(other)) fail(where, `"${other}" is not a Java package name like com.android.chrome`);
    if (other === pkg) fail(where, 'is the app itself');
    if (!isObj(raw)) fail(where, 'must be an app model (start, screens)');
    if (raw.format !== undefined && raw.format !== null) fail(`${where}.format`, 'other apps are generated models (no format)');
    if (!isObj(raw.screens) || Object.keys(raw.screens).length === 0) fail(`${where}.screens`, 'must be a non-empty object of screen name -> screen');
    apps.set(other, new Set(Object.keys(raw.screens)));
  }
  const generated = (raw, appPkg, at) => {
    const screenNames = new Set(Object.keys(raw.screens));
    const permissions = parsePermissions(raw.permissions, `${at}permissions`);
    const opens = new Map([...apps].filter(([p]) => p !== appPkg));
    const screens = parseScreens(raw.screens, at, {screenNames, pkg: appPkg, permissions, apps: opens});
    return {recorded: false, screens, permissions, transitions: [], display: {width: SCREEN.width, height: SCREEN.height}};
  };
  const otherApps = {};
  for (const [other, raw] of Object.entries(othersRaw)) {
    const where = `otherApps.${other}`;
    const otherStart = str(raw.start, `${where}.start`, {allowNumber: false});
    if (!apps.get(other).has(otherStart)) fail(`${where}.start`, `unknown screen "${otherStart}" (screens: ${[...apps.get(other)].join(', ')})`);
    otherApps[other] = {
      package: other, versionCode: 1, versionName: '', start: otherStart, label: labelOf(raw, other),
      ...generated(raw, other, `${where}.`), otherApps: {},
    };
  }
  return {...common, ...generated(doc, pkg, ''), otherApps};
}

function labelOf(doc, pkg) {
  return typeof doc.label === 'string' && doc.label ? doc.label
    : typeof doc.name === 'string' && doc.name ? doc.name : pkg.split('.').pop();
}

/** A generated app's screens; `at` prefixes the places errors name ("" or "otherApps.<pkg>."). */
function parseScreens(rawScreens, at, ctx) {
  const {screenNames} = ctx;
  const screens = {};
  for (const [name, raw] of Object.entries(rawScreens)) {
    const where = `${at}screens.${name}`;
    if (!isObj(raw)) fail(where, 'a screen must be an object');
    const activity = str(raw.activity, `${where}.activity`, {allowNumber: false});
    if (!activity.trim()) fail(`${where}.activity`, 'must not be empty');
    let back = 'pop';
    if (raw.back === null) back = null;
    else if (raw.back !== undefined && raw.back !== true) {
      back = str(raw.back, `${where}.back`, {allowNumber: false});
      if (!screenNames.has(back)) fail(`${where}.back`, `must be null or a screen name, unknown screen "${back}"`);
    }
    const elements = raw.elements ?? [];
    if (!Array.isArray(elements)) fail(`${where}.elements`, 'must be a list of elements');
    if (raw.scrollable !== undefined && typeof raw.scrollable !== 'boolean') {
      fail(`${where}.scrollable`, `must be true or false, got ${JSON.stringify(raw.scrollable)}`);
    }
    if (raw.dialog !== undefined && raw.dialog !== null && typeof raw.dialog !== 'boolean') {
      fail(`${where}.dialog`, `must be true or false, got ${JSON.stringify(raw.dialog)}`);
    }
    const screenCtx = {...ctx, activity};
    const after = parseAfter(raw.after, `${where}.after`,
      (rules, at) => parseRules(rules, at, {...screenCtx, elementId: name, handler: 'after'}));
    screens[name] = {
      name, activity, back, scrollable: raw.scrollable ?? false, dialog: raw.dialog === true, after,
      elements: elements.map((e, i) => parseElement(e, `${where}.elements[${i}]`, screenCtx)),
      onShow: parseRules(raw.onShow, `${where}.onShow`, {...screenCtx, elementId: name, handler: 'onShow'}),
    };
    const loading = screens[name].elements.findIndex((e) => e.loading);
    if (loading >= 0 && !after) {
      fail(`${where}.elements[${loading}].loading`, 'the screen has no "after": it never waits, so the element would never show');
    }
  }
  return screens;
}

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');
const notAnApk = (abs) => new ModelError(
  `The simulator runs app models, not APKs: ${abs} is an APK (an Android package). ` +
  'Give it an app model (a JSON file, see APP_MODEL.md), or run the APK on a device.');

/** Load and validate a model file; errors name the file and the problem. */
function loadModel(file) {
  if (typeof file !== 'string' || !file) {
    throw new ModelError("The 'appium:app' capability is required: the path of a simulated app model (JSON)");
  }
  const abs = path.resolve(file);
  let bytes;
  try {
    bytes = fs.readFileSync(abs);
  } catch (e) {
    throw new ModelError(e.code === 'ENOENT' ? `App model file not found: ${abs}` : `Cannot read app model ${abs}: ${e.message}`);
  }
  if (/\.apks?$/i.test(abs) || bytes.subarray(0, 4).equals(ZIP_MAGIC)) throw notAnApk(abs);
  let doc;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ModelError(`App model ${abs} is not valid JSON: ${e.message}. ` +
      'The simulator runs app models (JSON files, see APP_MODEL.md), not APKs or other files.');
  }
  try {
    return {...parseModel(doc, {dir: path.dirname(abs)}), path: abs};
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`App model ${abs} is invalid: ${e.message}`);
    throw e;
  }
}

// The helpers from validation.js stay exported here too: driver.js, commands.js and device.js take them from this module.
module.exports = {loadModel, parseModel, fullActivity, ModelError, parseCrash, str, isObj, fail};
