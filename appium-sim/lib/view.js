'use strict';
// The current screen as UiAutomator2 would dump it: a tree of node records
// (what page source, find, taps and screenshots share) and its XML.
const {SCREEN, layoutScreen} = require('./layout');
const {LAUNCHER_PACKAGE, SYSTEM_PACKAGE} = require('./device');

const FULL = [0, 0, SCREEN.width, SCREEN.height];
const CONTENT = [0, SCREEN.statusBar, SCREEN.width, SCREEN.height - SCREEN.navBar];

function node(props) {
  return {
    className: 'android.widget.FrameLayout', pkg: '', text: '', desc: '', hint: '', resourceId: '',
    checkable: false, checked: false, clickable: false, enabled: true, focusable: false, focused: false,
    longClickable: false, password: false, scrollable: false, selected: false, bounds: FULL,
    children: [], ...props,
  };
}

function appChildren(device, app) {
  const visit = app.visit;
  const {screen} = visit;
  const pkg = app.model.package;
  const prefix = `v${visit.serial}`;
  const boxes = layoutScreen(screen, device.density);
  // A scrollable screen shows its content through a ScrollView: shifted by the visit's
  // offset, clipped to the display; what lies outside is absent, as on a device.
  const dy = screen.scrollable ? visit.scrollY : 0;
  const clip = screen.scrollable ? CONTENT : null;
  const out = [];
  screen.elements.forEach((el, i) => {
    if (!boxes[i]) return; // invisible elements are not in the hierarchy (as UiAutomator2 by default)
    const full = shift(boxes[i], dy);
    const box = clipTo(full, clip);
    if (!box) return;
    const n = elementNode(device, app, {el, key: String(i), index: i, handle: `${prefix}.e${i}`, bounds: box});
    if (el.items) n.children = itemNodes(device, app, el, i, full, clip, prefix);
    out.push(n);
  });
  if (!screen.scrollable) return {handlePrefix: prefix, pkg, children: out};
  const scroller = node({
    handle: `${prefix}.s`, className: 'android.widget.ScrollView', pkg, scrollable: true, focusable: true,
    scrollView: true, bounds: CONTENT, children: out,
  });
  return {handlePrefix: prefix, pkg, children: [scroller]};
}

/** The `rows` items of a list from the first one its visit shows, in `box` (the list's own, unclipped). */
function itemNodes(device, app, list, i, box, clip, prefix) {
  const first = app.visit.first[String(i)] ?? 0;
  const height = (box[3] - box[1]) / list.rows;
  const out = [];
  for (let k = 0; k < list.rows && first + k < list.items.length; k++) {
    const j = first + k;
    const el = list.items[j];
    const bounds = clipTo([box[0], box[1] + Math.round(k * height), box[2], box[1] + Math.round((k + 1) * height)], clip);
    if (!el.visible || !bounds) continue;
    out.push(elementNode(device, app, {el, key: `${i}/${j}`, index: i, handle: `${prefix}.e${i}.${j}`, bounds}));
  }
  return out;
}

function elementNode(device, app, {el, key, index, handle, bounds}) {
  const visit = app.visit;
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
  const children = [];
  let i = 0;
  for (const app of device.apps.values()) {
    const col = i % 4;
    const row = Math.floor(i / 4);
    const x = 40 + col * 255;
    const y = 400 + row * 300;
    children.push(node({
      handle: `l${device.launcherSerial}.a${i}`, launcherApp: app.model.package,
      className: 'android.widget.TextView', pkg: LAUNCHER_PACKAGE, text: app.model.label, desc: app.model.label,
      clickable: true, focusable: true, longClickable: true, bounds: [x, y, x + 235, y + 260],
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
  const text = DIALOG_TEXT[kind];
  const prefix = `d${serial}`;
  const height = DIALOG.title + text.buttons.length * DIALOG.button + DIALOG.bottom;
  const top = Math.round((SCREEN.height - height) / 2);
  const box = [DIALOG.x1, top, DIALOG.x2, top + height];
  const sys = (props) => node({pkg: SYSTEM_PACKAGE, system: true, ...props});
  const title = sys({
    handle: `${prefix}.t`, className: 'android.widget.TextView', resourceId: 'android:id/alertTitle', text: text.title(label),
    bounds: [DIALOG.x1 + 66, top + 66, DIALOG.x2 - 66, top + DIALOG.title - 40],
  });
  const buttonsTop = top + DIALOG.title;
  const buttons = text.buttons.map(([id, caption, action], k) => sys({
    handle: `${prefix}.b${k}`, className: 'android.widget.Button', resourceId: `android:id/${id}`, text: caption,
    clickable: true, focusable: true, dialogAction: action,
    bounds: [DIALOG.x1, buttonsTop + k * DIALOG.button, DIALOG.x2, buttonsTop + (k + 1) * DIALOG.button],
  }));
  const area = [DIALOG.x1, buttonsTop, DIALOG.x2, buttonsTop + buttons.length * DIALOG.button];
  const topPanel = sys({
    handle: `${prefix}.p1`, className: 'android.widget.LinearLayout', resourceId: 'android:id/topPanel',
    bounds: [DIALOG.x1, top, DIALOG.x2, buttonsTop], children: [title],
  });
  const custom = sys({
    handle: `${prefix}.p2`, resourceId: 'android:id/custom', bounds: area,
    children: [sys({handle: `${prefix}.p3`, className: 'android.widget.LinearLayout', bounds: area, children: buttons})],
  });
  const panel = sys({
    handle: `${prefix}.p0`, className: 'android.widget.LinearLayout', resourceId: 'android:id/parentPanel', bounds: box,
    children: [topPanel, custom],
  });
  return {pkg: SYSTEM_PACKAGE, roots: [sys({handle: `${prefix}.c0`, bounds: box, children: [panel]})]};
}

/** The app's (or the launcher's) window, and a toast over it. */
function windowRoots(device) {
  const app = device.fgApp;
  const {handlePrefix, pkg, children} = app ? appChildren(device, app) : launcherChildren(device);
  const content = node({handle: `${handlePrefix}.c1`, pkg, resourceId: 'android:id/content', bounds: CONTENT, children});
  const roots = [node({handle: `${handlePrefix}.c0`, pkg, children: [content]})];
  if (device.toast) {
    const t = device.toast;
    roots.push(node({
      handle: `${handlePrefix}.t${device.version}`, className: 'android.widget.Toast', pkg: t.pkg, text: t.text,
      bounds: [140, 2000, 940, 2130],
    }));
  }
  return {pkg, roots};
}

/** Build the node tree of what is on screen now. */
function buildView(device) {
  const {pkg, roots} = device.dialog ? dialogRoots(device) : windowRoots(device);
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
  return {roots, records, byHandle, pkg, version: device.version};
}

const ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;'};
// eslint-disable-next-line no-control-regex
const escape = (s) => String(s).replace(/[&<>"\n\r\t]/g, (c) => ESC[c]).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
const tagName = (cls) => (/^[A-Za-z_][\w.-]*$/.test(cls) ? cls : 'android.view.View');
const boundsStr = (b) => `[${b[0]},${b[1]}][${b[2]},${b[3]}]`;

/** Attributes in UiAutomator2's order (getAttribute answers the same names). */
function attributes(n) {
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

function toXml(view) {
  const parts = [`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n<hierarchy index="0" class="hierarchy" rotation="0" width="${SCREEN.width}" height="${SCREEN.height}">\r\n`];
  const emit = (n, depth) => {
    const pad = '  '.repeat(depth);
    const tag = tagName(n.className);
    const attrs = attributes(n).map(([k, v]) => `${k}="${escape(v)}"`).join(' ');
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
