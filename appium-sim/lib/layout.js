'use strict';
// Automatic layout: elements without `bounds` are stacked top to bottom in the
// content area. If they do not fit they are squeezed, so every visible element
// stays on screen, unless the screen is `scrollable`: then they keep their
// natural height and run below the display (view.js scrolls and clips them).
// A list container (`items`) is `rows` item rows high.

const SCREEN = {width: 1080, height: 2400, statusBar: 63, navBar: 126};
const MARGIN = 48;
const GAP = 24;
const ITEM_HEIGHT = 144; // one row of a list container
const VIEWPORT = {top: SCREEN.statusBar, bottom: SCREEN.height - SCREEN.navBar};

function naturalHeight(el) {
  if (el.items) return el.rows * ITEM_HEIGHT;
  switch (el.className) {
    case 'android.widget.EditText': return 150;
    case 'android.widget.Button':
    case 'android.widget.ImageButton': return 144;
    case 'android.widget.Switch':
    case 'android.widget.CheckBox':
    case 'android.widget.RadioButton':
    case 'android.widget.ToggleButton': return 126;
    case 'android.widget.ImageView': return 240;
    case 'android.widget.TextView': {
      const lines = Math.max(1, Math.ceil((el.text || '').length / 42));
      return 40 + 56 * Math.min(lines, 4);
    }
    default: return 120;
  }
}

const cache = new WeakMap();

/**
 * Bounds [x1,y1,x2,y2] per element index of a screen (null for invisible elements),
 * in content coordinates (before any scrolling); `.bottom` is where the content ends.
 */
function layoutScreen(screen) {
  let out = cache.get(screen);
  if (out) return out;
  out = screen.elements.map(() => null);
  const flow = [];
  screen.elements.forEach((el, i) => {
    if (!el.visible) return;
    if (el.bounds) out[i] = el.bounds;
    else flow.push(i);
  });
  const top = SCREEN.statusBar + GAP;
  const avail = SCREEN.height - SCREEN.navBar - GAP - top;
  const heights = flow.map((i) => naturalHeight(screen.elements[i]));
  const total = heights.reduce((a, b) => a + b, 0) + GAP * Math.max(0, flow.length - 1);
  const f = total > avail && !screen.scrollable ? avail / total : 1;
  let y = top;
  flow.forEach((i, k) => {
    const h = Math.max(1, Math.floor(heights[k] * f));
    const el = screen.elements[i];
    const x2 = el.className === 'android.widget.ImageButton' ? MARGIN + h : SCREEN.width - MARGIN;
    out[i] = [MARGIN, Math.round(y), x2, Math.round(y) + h];
    y += h + GAP * f;
  });
  out.bottom = Math.max(Math.round(y), ...out.filter(Boolean).map((b) => b[3]));
  cache.set(screen, out);
  return out;
}

module.exports = {SCREEN, VIEWPORT, layoutScreen};
