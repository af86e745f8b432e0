'use strict';
// PNG screenshot of the current view: each visible node's box and text, drawn
// at 1/3 of the reported screen size (1080x2400 -> 360x800).
const {PNG} = require('pngjs');
const {SCREEN} = require('./layout');
const {glyph, GLYPH_W, GLYPH_H} = require('./font');

const SCALE = 3;

const COLORS = {
  background: [250, 250, 250], launcher: [32, 48, 72], bar: [60, 60, 60], text: [20, 20, 20],
  outline: [150, 150, 150], button: [187, 222, 251], edit: [255, 255, 255], focused: [25, 118, 210],
  disabled: [224, 224, 224], checkedOn: [76, 175, 80], icon: [255, 193, 7], toast: [66, 66, 66], light: [255, 255, 255],
};

class Canvas {
  constructor(w, h, bg) {
    this.w = w;
    this.h = h;
    this.data = Buffer.alloc(w * h * 4, 255);
    this.fill(0, 0, w, h, bg);
  }

  fill(x1, y1, x2, y2, [r, g, b]) {
    x1 = Math.max(0, Math.floor(x1)); y1 = Math.max(0, Math.floor(y1));
    x2 = Math.min(this.w, Math.ceil(x2)); y2 = Math.min(this.h, Math.ceil(y2));
    for (let y = y1; y < y2; y++) {
      let o = (y * this.w + x1) * 4;
      for (let x = x1; x < x2; x++, o += 4) {
        this.data[o] = r; this.data[o + 1] = g; this.data[o + 2] = b;
      }
    }
  }

  outline(x1, y1, x2, y2, color) {
    this.fill(x1, y1, x2, y1 + 1, color);
    this.fill(x1, y2 - 1, x2, y2, color);
    this.fill(x1, y1, x1 + 1, y2, color);
    this.fill(x2 - 1, y1, x2, y2, color);
  }

  text(str, x, y, maxX, color) {
    for (const ch of str) {
      if (x + GLYPH_W > maxX) break;
      const g = glyph(ch);
      for (let gy = 0; gy < GLYPH_H; gy++) {
        for (let gx = 0; gx < GLYPH_W; gx++) if (g[gy][gx]) this.fill(x + gx, y + gy, x + gx + 1, y + gy + 1, color);
      }
      x += GLYPH_W + 1;
    }
  }
}

function nodeColor(n) {
  if (n.className === 'android.widget.Toast') return COLORS.toast;
  if (n.system) return n.card ? COLORS.light : null; // the dialog's card
  if (n.launcherApp) return COLORS.icon;
  if (!n.enabled) return COLORS.disabled;
  if (n.checkable && n.checked) return COLORS.checkedOn;
  if ((n.el && n.el.editable) || (n.recordedNode && n.editable)) return COLORS.edit;
  if (n.clickable) return COLORS.button;
  return null;
}

function drawNode(c, n) {
  if (n.index === undefined && !n.launcherApp && !n.system && !n.recordedNode && n.className !== 'android.widget.Toast') return;
  if (n.system && !n.text && !n.card) return; // a dialog's inner layouts
  const [x1, y1, x2, y2] = n.bounds.map((v) => v / SCALE);
  const bg = nodeColor(n);
  if (bg) c.fill(x1, y1, x2, y2, bg);
  c.outline(x1, y1, x2, y2, n.focused ? COLORS.focused : COLORS.outline);
  const label = n.password && n.text ? '•'.repeat(n.text.length) : n.text || n.hint || n.desc;
  const dark = n.className === 'android.widget.Toast';
  if (label) c.text(label, x1 + 4, Math.max(y1 + 2, (y1 + y2 - GLYPH_H) / 2), x2 - 2, dark ? COLORS.light : COLORS.text);
  // a web page is drawn whether or not its accessibility tree is exposed
  if (n.el && n.el.web) for (const part of n.el.web.parts) drawWebPart(c, part.box, part.text);
}

function drawWebPart(c, box, text) {
  const [x1, y1, x2, y2] = box.map((v) => v / SCALE);
  c.outline(x1, y1, x2, y2, COLORS.outline);
  if (text) c.text(text, x1 + 4, Math.max(y1 + 2, (y1 + y2 - GLYPH_H) / 2), x2 - 2, COLORS.text);
}

// An explorer comes back to the same screens again and again, and drawing and deflating one costs
// about 20 ms of this server's one thread: pictures are kept by what they are drawn from.
const KEPT_PICTURES = 128;
const pictures = new Map();

/** What drawNode reads of each node: two views with the same key draw the same picture. */
function pictureKey(view, launcher) {
  return JSON.stringify([launcher, view.width, view.height, view.records.map((n) => [
    n.index !== undefined || Boolean(n.recordedNode), Boolean(n.launcherApp), Boolean(n.system), n.className, n.resourceId,
    n.enabled, n.checkable, n.checked, Boolean((n.el && n.el.editable) || (n.recordedNode && n.editable)), n.clickable,
    n.focused, n.password, n.text, n.hint, n.desc, n.bounds, Boolean(n.card),
    n.el && n.el.web ? n.el.web.parts.map((p) => [p.box, p.text]) : null,
  ])]);
}

/** Render a view (see view.js) to a PNG buffer, or hand back the one drawn for an identical view. */
function renderPng(view, launcher) {
  const key = pictureKey(view, launcher);
  let png = pictures.get(key);
  if (png === undefined) {
    png = draw(view, launcher);
    if (pictures.size >= KEPT_PICTURES) pictures.delete(pictures.keys().next().value);  // the oldest
  } else {
    pictures.delete(key);  // kept again as the newest
  }
  pictures.set(key, png);
  return png;
}

/** At a third of the view's size (1080x2400 -> 360x800); the bars scaled to its width. */
function draw(view, launcher) {
  const W = Math.max(1, Math.round(view.width / SCALE));
  const H = Math.max(1, Math.round(view.height / SCALE));
  const f = view.width / SCREEN.width;
  const c = new Canvas(W, H, launcher ? COLORS.launcher : COLORS.background);
  if (!view.recorded) { // a recorded page source holds its own bars (or not)
    c.fill(0, 0, W, (SCREEN.statusBar * f) / SCALE, COLORS.bar);
    c.fill(0, H - (SCREEN.navBar * f) / SCALE, W, H, COLORS.bar);
  }
  for (const n of view.records) drawNode(c, n);
  const png = new PNG({width: W, height: H, colorType: 2, deflateLevel: 3});
  png.data = c.data;
  return PNG.sync.write(png, {colorType: 2, deflateLevel: 3, filterType: 1});
}

module.exports = {renderPng};
