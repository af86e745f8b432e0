'use strict';
// Loading and validation of simulated-app models (see ../shared/APP_MODEL.md).
// Unknown keys are ignored; a key the format defines with a wrong shape is
// refused with an error naming where it is (e.g. `screens.home.elements[2].onClick[0].goto`).
const fs = require('node:fs');
const path = require('node:path');

const JAVA_PACKAGE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const BOUNDS = /^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$/;
const BOOL_KEYS = ['clickable', 'editable', 'password', 'checkable', 'checked', 'enabled', 'visible', 'scrollable'];
const DEFAULT_ROWS = 5;
const CLICKABLE_CLASSES = new Set([
  'android.widget.Button', 'android.widget.ImageButton', 'android.widget.Switch',
  'android.widget.CheckBox', 'android.widget.RadioButton', 'android.widget.ToggleButton',
]);
const CHECKABLE_CLASSES = new Set([
  'android.widget.Switch', 'android.widget.CheckBox', 'android.widget.RadioButton',
  'android.widget.ToggleButton', 'android.widget.CheckedTextView',
]);

class ModelError extends Error {}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function fail(where, msg) {
  throw new ModelError(`${where}: ${msg}`);
}

function str(v, where, {allowNumber = true} = {}) {
  if (typeof v === 'string') return v;
  if (allowNumber && typeof v === 'number' && Number.isFinite(v)) return String(v);
  return fail(where, `must be a string, got ${JSON.stringify(v)}`);
}

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

function parseRule(raw, where, screenNames) {
  if (!isObj(raw)) fail(where, 'a rule must be an object');
  const rule = {};
  if (raw.when !== undefined) {
    if (!isObj(raw.when)) fail(`${where}.when`, 'must be an object of element id -> typed value');
    rule.when = {};
    for (const [id, val] of Object.entries(raw.when)) {
      if (typeof val === 'boolean') rule.when[id] = val;
      else rule.when[id] = str(val, `${where}.when.${id}`);
    }
  }
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
  for (const key of ['back', 'crash']) {
    if (raw[key] !== undefined && raw[key] !== null) {
      if (typeof raw[key] !== 'boolean') fail(`${where}.${key}`, `must be true or false, got ${JSON.stringify(raw[key])}`);
      rule[key] = raw[key];
    }
  }
  if (raw.toast !== undefined && raw.toast !== null) rule.toast = str(raw.toast, `${where}.toast`);
  return rule;
}

function parseElement(raw, where, screenNames) {
  if (!isObj(raw)) fail(where, 'an element must be an object');
  const el = {};
  el.id = raw.id === undefined || raw.id === null ? '' : str(raw.id, `${where}.id`);
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
  el.onClick = parseRules(raw.onClick, `${where}.onClick`, screenNames);
  el.onLongClick = parseRules(raw.onLongClick, `${where}.onLongClick`, screenNames);
  el.longClickable = el.onLongClick.length > 0;
  el.editable = raw.editable ?? false;
  el.password = raw.password ?? false;
  el.checkable = raw.checkable ?? CHECKABLE_CLASSES.has(el.className);
  el.checked = raw.checked ?? false;
  el.enabled = raw.enabled ?? true;
  el.visible = raw.visible ?? true;
  el.clickable = raw.clickable ?? (raw.onClick !== undefined && raw.onClick !== null
    || CLICKABLE_CLASSES.has(el.className) || el.checkable || el.editable);
  el.bounds = raw.bounds === undefined || raw.bounds === null ? null : parseBounds(raw.bounds, `${where}.bounds`);
  parseItems(el, raw, where, screenNames);
  return el;
}

/** A scrollable container: `items` shown `rows` at a time (APP_MODEL.md, "Scrolling lists"). */
function parseItems(el, raw, where, screenNames) {
  el.items = null;
  el.scrollable = raw.scrollable ?? false;
  if (raw.items === undefined || raw.items === null) return;
  if (!Array.isArray(raw.items)) fail(`${where}.items`, 'must be a list of elements');
  el.items = raw.items.map((item, i) => {
    if (isObj(item) && item.items !== undefined) fail(`${where}.items[${i}].items`, 'list items cannot hold lists');
    return parseElement(item, `${where}.items[${i}]`, screenNames);
  });
  el.rows = raw.rows ?? DEFAULT_ROWS;
  if (!Number.isInteger(el.rows) || el.rows < 1) fail(`${where}.rows`, `must be a positive integer, got ${JSON.stringify(raw.rows)}`);
  el.scrollable = raw.scrollable ?? true;
}

function parseRules(raw, where, screenNames) {
  let rules = raw;
  if (rules === undefined || rules === null) rules = [];
  else if (isObj(rules)) rules = [rules];
  else if (!Array.isArray(rules)) fail(where, 'must be a list of rules');
  return rules.map((r, i) => parseRule(r, `${where}[${i}]`, screenNames));
}

/** Validate a parsed JSON document; returns the normalized model or throws ModelError. */
function parseModel(doc) {
  if (!isObj(doc)) fail('(top level)', 'the model must be a JSON object');
  const pkg = str(doc.package, 'package', {allowNumber: false});
  if (!JAVA_PACKAGE.test(pkg)) fail('package', `"${pkg}" is not a Java package name like com.example.app`);
  if (doc.versionCode !== undefined && !Number.isInteger(doc.versionCode)) fail('versionCode', 'must be an integer');
  const versionName = doc.versionName === undefined ? '' : str(doc.versionName, 'versionName');
  if (!isObj(doc.screens) || Object.keys(doc.screens).length === 0) fail('screens', 'must be a non-empty object of screen name -> screen');
  const screenNames = new Set(Object.keys(doc.screens));
  const start = str(doc.start, 'start', {allowNumber: false});
  if (!screenNames.has(start)) fail('start', `unknown screen "${start}" (screens: ${[...screenNames].join(', ')})`);
  const screens = {};
  for (const [name, raw] of Object.entries(doc.screens)) {
    const where = `screens.${name}`;
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
    screens[name] = {
      name, activity, back, scrollable: raw.scrollable ?? false,
      elements: elements.map((e, i) => parseElement(e, `${where}.elements[${i}]`, screenNames)),
    };
  }
  const label = typeof doc.label === 'string' && doc.label ? doc.label
    : typeof doc.name === 'string' && doc.name ? doc.name : pkg.split('.').pop();
  return {package: pkg, versionCode: doc.versionCode ?? 1, versionName, start, screens, label};
}

/** Load and validate a model file; errors name the file and the problem. */
function loadModel(file) {
  if (typeof file !== 'string' || !file) {
    throw new ModelError("The 'appium:app' capability is required: the path of a simulated app model (JSON)");
  }
  const abs = path.resolve(file);
  let text;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ModelError(e.code === 'ENOENT' ? `App model file not found: ${abs}` : `Cannot read app model ${abs}: ${e.message}`);
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`App model ${abs} is not valid JSON: ${e.message}`);
  }
  try {
    return {...parseModel(doc), path: abs};
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`App model ${abs} is invalid: ${e.message}`);
    throw e;
  }
}

/** Full activity name: ".Main" -> "com.pkg.Main"; also accepts "com.pkg/.Main". */
function fullActivity(pkg, activity) {
  let a = String(activity).trim();
  const slash = a.indexOf('/');
  if (slash >= 0) {
    pkg = a.slice(0, slash);
    a = a.slice(slash + 1);
  }
  return a.startsWith('.') ? pkg + a : a;
}

module.exports = {loadModel, parseModel, fullActivity, ModelError};
