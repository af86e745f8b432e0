'use strict';
// The current screen as UiAutomator2 would dump it: a tree of node records
// (what page source, find, taps and screenshots share) and its XML.
const {SCREEN, layoutScreen} = require('./layout');
const {LAUNCHER_PACKAGE, SYSTEM_PACKAGE} = require('./device');
const {reescape} = require('./pagesource');

const {node, FULL} = require('./node');
const {permissionRoots} = require('./permissions');
const {webChildren} = require('./web');
const {drawnVisits, layoutDialog, dialogWindow, cover} = require('./dialogs');
const {waiting} = require('./timers');

const CONTENT = [0, SCREEN.statusBar, SCREEN.width, SCREEN.height - SCREEN.navBar];

/** The system's parts (launcher icons, dialogs, bars) on a display other than 1080 px wide: scaled to it. */
function metrics(device) {
  const {width, height} = device.display;
  const f = width / SCREEN.width;
  const px = (v) => Math.round(v * f);
  return {width, height, px, full: [0, 0, width, height], content: [0, px(SCREEN.statusBar), width, height - px(SCREEN.navBar)]};
}

/** A recorded screen as recorded: its windows' nodes, with what was typed into them on this visit. */
function recordedRoots(device, app) {
  const visit = app.visit;
  const prefix = `v${visit.serial}`;
  const pkg = app.model.package;
  const build = (t) => {
    const v = (k, dflt = '') => t.values.get(k) ?? dflt;
    const key = `#${t.k}`;
    const typed = Object.hasOwn(visit.typed, key) ? visit.typed[key] : null;
    const text = typed ?? v('text');
    return node({
      handle: `${prefix}.r${t.k}`, recordedNode: t, key, typed: typed !== null, editable: t.editable,
      className: t.className, pkg: v('package', pkg), text, value: text, desc: v('content-desc'), hint: v('hint'),
      resourceId: v('resource-id'), checkable: v('checkable') === 'true', checked: v('checked') === 'true',
      clickable: t.clickable, enabled: v('enabled', 'true') !== 'false', focusable: v('focusable') === 'true',
      focused: v('focused') === 'true', longClickable: t.longClickable, password: v('password') === 'true',
      scrollable: t.scrollable, selected: v('selected') === 'true', bounds: t.bounds ?? [0, 0, 0, 0],
      children: t.children.map(build),
    });
  };
  return {pkg, roots: visit.screen.recorded.tops.map(build), recorded: visit.screen.recorded};
}

/** The elements of a visit's screen (a dialog's laid out in its card); `scrollable` screens inside a ScrollView. */
function appChildren(device, app, visit) {
  const {screen} = visit;
  const pkg = app.model.package;
  const prefix = `v${visit.serial}`;
  const boxes = screen.dialog ? layoutDialog(screen, device.density) : layoutScreen(screen, device.density);
  // A scrollable screen shows its content through a ScrollView: shifted by the visit's
  // offset, clipped to the display; what lies outside is absent, as on a device.
  const scrolls = screen.scrollable && !screen.dialog;
  const dy = scrolls ? visit.scrollY : 0;
  const clip = scrolls ? CONTENT : null;
  const loading = waiting(visit); // while the screen waits for its `after`, its `loading` elements show
  const out = [];
  screen.elements.forEach((el, i) => {
    if (!boxes[i]) return; // invisible elements are not in the hierarchy (as UiAutomator2 by default)
    if (el.loading && !loading) return; // loaded: the progress bar is gone
    const full = shift(boxes[i], dy);
    const box = clipTo(full, clip);
    if (!box) return;
    const n = el.loading ? progressNode(app, {el, index: i, handle: `${prefix}.e${i}`, bounds: box})
      : elementNode(device, app, visit, {el, key: String(i), index: i, handle: `${prefix}.e${i}`, bounds: box});
    if (el.loading) return out.push(n);
    if (el.items) n.children = itemNodes(device, app, visit, el, i, full, clip, prefix);
    if (el.web) n.children = webChildren(n, (text) => app.fill(text));
    out.push(n);
  });
  if (!scrolls) return {handlePrefix: prefix, pkg, children: out, card: boxes.card};
  const scroller = node({
    handle: `${prefix}.s`, className: 'android.widget.ScrollView', pkg, scrollable: true, focusable: true,
    scrollView: true, bounds: CONTENT, children: out,
  });
  return {handlePrefix: prefix, pkg, children: [scroller]};
}

/** The `rows` items of a list from the first one its visit shows, in `box` (the list's own, unclipped). */
function itemNodes(device, app, visit, list, i, box, clip, prefix) {
  const first = visit.first[String(i)] ?? 0;
  const height = (box[3] - box[1]) / list.rows;
  const out = [];
  for (let k = 0; k < list.rows && first + k < list.items.length; k++) {
    const j = first + k;
    const el = list.items[j];
    const bounds = clipTo([box[0], box[1] + Math.round(k * height), box[2], box[1] + Math.round((k + 1) * height)], clip);
    if (!el.visible || !bounds) continue;
    out.push(elementNode(device, app, visit, {el, key: `${i}/${j}`, index: i, handle: `${prefix}.e${i}.${j}`, bounds}));
  }
  return out;
}

/** An element with `loading: true` while its screen waits: an indeterminate ProgressBar (no text, not clickable). */
function progressNode(app, {el, index, handle, bounds}) {
  const pkg = app.model.package;
  return node({
    handle, index, el, className: 'android.widget.ProgressBar', pkg, desc: el.desc,
    resourceId: el.id ? `${pkg}:id/${el.id}` : '', bounds,
  });
}

function elementNode(device, app, visit, {el, key, index, handle, bounds}) {
  const pkg = app.model.package;
  const typed = device.typedText(visit, key, el);
  let text;
  if (el.id && Object.hasOwn(visit.sets, el.id)) text = app.fill(visit.sets[el.id]);
  else if (typed !== null) text = typed;
  else text = app.fill(el.text);
  return node({
    handle, index, key, el,
    className: el.className, pkg, text, value: text, desc: el.desc, hint: el.hint,
    resourceId: el.id ? `${pkg}:id/${el.id}` : '',
    checkable: el.checkable, checked: el.checkable && app.isChecked(visit.screen, key, el),
    clickable: el.clickable, enabled: el.enabled, focusable: el.clickable || el.editable || el.scrollable,
    focused: visit.focused === key, longClickable: el.longClickable, password: el.password,
    scrollable: el.scrollable, bounds,
  });
}

const shift = (b, dy) => [b[0], b[1] - dy, b[2], b[3] - dy];

/** `b` cut to the area `clip` (null: no clipping), or null when nothing of it is inside. */
function clipTo(b, clip) {
  if (!clip) return b;
  if (b[3] <= clip[1] || b[1] >= clip[3]) return null;
  return [b[0], Math.max(b[1], clip[1]), b[2], Math.min(b[3], clip[3])];
}

function launcherChildren(device) {
  const {px} = metrics(device);
  const children = [];
  let i = 0;
  for (const app of device.apps.values()) {
    const col = i % 4;
    const row = Math.floor(i / 4);
    const x = px(40 + col * 255);
    const y = px(400 + row * 300);
    children.push(node({
      handle: `l${device.launcherSerial}.a${i}`, launcherApp: app.model.package,
      className: 'android.widget.TextView', pkg: LAUNCHER_PACKAGE, text: app.model.label, desc: app.model.label,
      clickable: true, focusable: true, longClickable: true, bounds: [x, y, x + px(235), y + px(260)],
    }));
    i++;
  }
  return {handlePrefix: `l${device.launcherSerial}`, pkg: LAUNCHER_PACKAGE, children};
}

// Android's crash and ANR dialogs (the layouts app_error_dialog and app_anr_dialog): a title and
// a column of full-width buttons, in the middle of the display.
const DIALOG = {x1: 77, x2: 1003, title: 190, button: 147, bottom: 36};
const DIALOG_TEXT = {
  crash: {title: (label) => `${label} keeps stopping`, buttons: [['aerr_app_info', 'App info', 'info'], ['aerr_close', 'Close app', 'close']]},
  anr: {title: (label) => `${label} isn't responding`, buttons: [['aerr_close', 'Close app', 'close'], ['aerr_wait', 'Wait', 'wait']]},
};

/** The system dialog's window: what UiAutomator2 dumps while it has the focus (package "android"). */
function dialogRoots(device) {
  const {kind, label, serial} = device.dialog;
  const {px, width, height: screenHeight} = metrics(device);
  const D = {x1: px(DIALOG.x1), x2: width - px(SCREEN.width - DIALOG.x2), title: px(DIALOG.title), button: px(DIALOG.button)};
  const text = DIALOG_TEXT[kind];
  const prefix = `d${serial}`;
  const height = D.title + text.buttons.length * D.button + px(DIALOG.bottom);
  const top = Math.round((screenHeight - height) / 2);
  const box = [D.x1, top, D.x2, top + height];
  const sys = (props) => node({pkg: SYSTEM_PACKAGE, system: true, ...props});
  const title = sys({
    handle: `${prefix}.t`, className: 'android.widget.TextView', resourceId: 'android:id/alertTitle', text: text.title(label),
    bounds: [D.x1 + px(66), top + px(66), D.x2 - px(66), top + D.title - px(40)],
  });
  const buttonsTop = top + D.title;
  const buttons = text.buttons.map(([id, caption, action], k) => sys({
    handle: `${prefix}.b${k}`, className: 'android.widget.Button', resourceId: `android:id/${id}`, text: caption,
    clickable: true, focusable: true, dialogAction: action,
    bounds: [D.x1, buttonsTop + k * D.button, D.x2, buttonsTop + (k + 1) * D.button],
  }));
  const area = [D.x1, buttonsTop, D.x2, buttonsTop + buttons.length * D.button];
  const topPanel = sys({
    handle: `${prefix}.p1`, className: 'android.widget.LinearLayout', resourceId: 'android:id/topPanel',
    bounds: [D.x1, top, D.x2, buttonsTop], children: [title],
  });
  const custom = sys({
    handle: `${prefix}.p2`, resourceId: 'android:id/custom', bounds: area,
    children: [sys({handle: `${prefix}.p3`, className: 'android.widget.LinearLayout', bounds: area, children: buttons})],
  });
  const panel = sys({
    handle: `${prefix}.p0`, className: 'android.widget.LinearLayout', resourceId: 'android:id/parentPanel', bounds: box, card: true,
    children: [topPanel, custom],
  });
  return {pkg: SYSTEM_PACKAGE, roots: [sys({handle: `${prefix}.c0`, bounds: box, children: [panel]})]};
}

/** The app's (or the launcher's) window, and a toast over it. */
function windowRoots(device) {
  const app = device.fgApp;
  if (app && app.visit.screen.recorded) return recordedRoots(device, app);
  let roots;
  let pkg;
  let handlePrefix;
  if (app) {
    // a dialog screen is a window over the screen below it: both drawn, the lower ones take no touch
    const visits = drawnVisits(app.stack);
    roots = visits.map((visit, k) => {
      const drawn = appChildren(device, app, visit);
      ({handlePrefix, pkg} = drawn);
      const root = visit.screen.dialog ? dialogWindow(handlePrefix, pkg, drawn.card, drawn.children)
        : plainWindow(handlePrefix, pkg, FULL, CONTENT, drawn.children);
      return k < visits.length - 1 ? cover(root) : root;
    });
  } else {
    const launcher = launcherChildren(device);
    ({handlePrefix, pkg} = launcher);
    const {full, content} = metrics(device);
    roots = [plainWindow(handlePrefix, pkg, full, content, launcher.children)];
  }
  if (device.toast) {
    const t = device.toast;
    roots.push(node({
      handle: `${handlePrefix}.t${device.version}`, className: 'android.widget.Toast', pkg: t.pkg, text: t.text,
      bounds: [140, 2000, 940, 2130],
    }));
  }
  return {pkg, roots};
}

/** A window filling the display: decor > android:id/content > children. */
function plainWindow(prefix, pkg, full, contentBox, children) {
  const content = node({handle: `${prefix}.c1`, pkg, resourceId: 'android:id/content', bounds: contentBox, children});
  return node({handle: `${prefix}.c0`, pkg, bounds: full, children: [content]});
}

/** Build the node tree of what is on screen now. */
function buildView(device) {
  const permissions = device.permissionDialog();
  const {pkg, roots, recorded = null} = device.dialog ? dialogRoots(device)
    : permissions ? permissionRoots(permissions) : windowRoots(device);
  // flatten in document order; `last` = index of the last descendant (for scoped finds)
  const records = [];
  const walk = (n, parent) => {
    n.parent = parent;
    n.pre = records.length;
    records.push(n);
    n.children.forEach((c, k) => {
      c.childIndex = k;
      walk(c, n);
    });
    n.last = records.length - 1;
  };
  roots.forEach((r, k) => {
    r.childIndex = k;
    walk(r, null);
  });
  const byHandle = new Map(records.map((r) => [r.handle, r]));
  const {width, height} = recorded ?? (device.fgApp && !device.dialog ? SCREEN : device.display);
  return {roots, records, byHandle, pkg, recorded, width, height, version: device.version};
}

const ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;'};
// What XML 1.0 cannot hold: control characters, U+FFFE/U+FFFF and lone surrogates.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const escape = (s) => String(s).replace(/[&<>"\n\r\t]/g, (c) => ESC[c]).replace(FORBIDDEN, '');
/** For a recorded screen: what XML cannot hold written as a character reference, as a device writes it. */
const escapeAsRecorded = (s) => String(s).replace(/[&<>"\n\r\t]/g, (c) => ESC[c])
  .replace(FORBIDDEN, (c) => `&#${c.charCodeAt(0)};`);
const tagName = (cls) => (/^[A-Za-z_][\w.-]*$/.test(cls) ? cls : 'android.view.View');
const boundsStr = (b) => `[${b[0]},${b[1]}][${b[2]},${b[3]}]`;

/**
 * Attributes in UiAutomator2's order (getAttribute answers the same names). A recorded node's are its
 * recorded values (then the ones UiAutomator2 does not write, as recorded), typed text excepted.
 */
function attributes(n) {
  if (n.recordedNode) return recordedAttributes(n).map(([k, v]) => [k, v]);
  return standardAttributes(n);
}

/** [name, value, raw]: raw is the recorded text of the value (null: written from the value). */
function recordedAttributes(n) {
  const t = n.recordedNode;
  const raws = new Map();
  for (const [k, raw] of t.attrs) if (!raws.has(k)) raws.set(k, raw);
  const out = standardAttributes(n).map(([k, v]) => {
    if (!raws.has(k) || (k === 'text' && n.typed)) return [k, v, null];
    return [k, t.values.get(k), raws.get(k)];
  });
  const seen = new Set(out.map(([k]) => k));
  for (const [k, raw] of raws) if (!seen.has(k)) out.push([k, t.values.get(k), raw]);
  return out;
}

function standardAttributes(n) {
  return [
    ['index', String(n.childIndex)],
    ['package', n.pkg],
    ['class', n.className],
    ['text', n.password && n.text ? '•'.repeat(n.text.length) : n.text],
    ['resource-id', n.resourceId],
    ['checkable', String(n.checkable)],
    ['checked', String(n.checked)],
    ['clickable', String(n.clickable)],
    ['enabled', String(n.enabled)],
    ['focusable', String(n.focusable)],
    ['focused', String(n.focused)],
    ['long-clickable', String(n.longClickable)],
    ['password', String(n.password)],
    ['scrollable', String(n.scrollable)],
    ['selected', String(n.selected)],
    ['bounds', boundsStr(n.bounds)],
    ['displayed', 'true'],
    ['hint', n.hint],
    ['content-desc', n.desc],
  ];
}

const XML_NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/;

/**
 * The page source. A recorded screen is served as recorded (its values written as they were, character
 * references to control characters and a DOCTYPE included); `clean` writes what a strict XML parser
 * reads instead (what xpath finds run on): decoded values, what XML forbids left out.
 */
function toXml(view, {clean = false} = {}) {
  const rec = view.recorded;
  const prolog = rec && rec.prolog && !clean ? rec.prolog : "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n";
  const rotation = rec ? (clean ? escape(rec.rotation) : escapeAsRecorded(rec.rotation)) : '0';
  const parts = [`${prolog}<hierarchy index="0" class="hierarchy" rotation="${rotation}" width="${view.width}" height="${view.height}">\r\n`];
  const written = (n) => {
    if (!n.recordedNode) return attributes(n).map(([k, v]) => `${k}="${escape(v)}"`);
    const attrs = recordedAttributes(n);
    if (clean) return attrs.filter(([k]) => XML_NAME.test(k)).map(([k, v]) => `${k}="${escape(v)}"`);
    return attrs.map(([k, v, raw]) => `${k}="${raw === null ? escapeAsRecorded(v) : reescape(raw)}"`);
  };
  const emit = (n, depth) => {
    const pad = '  '.repeat(depth);
    const tag = tagName(n.className);
    const attrs = written(n).join(' ');
    if (!n.children.length) {
      parts.push(`${pad}<${tag} ${attrs} />\r\n`);
      return;
    }
    parts.push(`${pad}<${tag} ${attrs}>\r\n`);
    n.children.forEach((c) => emit(c, depth + 1));
    parts.push(`${pad}</${tag}>\r\n`);
  };
  view.roots.forEach((r) => emit(r, 1));
  parts.push('</hierarchy>');
  return parts.join('');
}

module.exports = {buildView, toXml, attributes, boundsStr};
