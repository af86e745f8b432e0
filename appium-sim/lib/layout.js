'use strict';
// Automatic layout: elements without `bounds` are stacked top to bottom in the
// content area. If they do not fit they are squeezed, so every visible element
// stays on screen, unless the screen is `scrollable`: then they keep their
// natural height and run below the display (view.js scrolls and clips them).
// A list container (`items`) is `rows` item rows high.
// Whatever can be touched stays at least 48 dp tall (Material's touch target,
// at the device's density), squeezed or not: only explicit `bounds` make a
// smaller target, so a small target in a model is one its author meant.

const SCREEN = {width: 1080, height: 2400, statusBar: 63, navBar: 126};
const MARGIN = 48;
const GAP = 24;
const ITEM_HEIGHT = 144; // one row of a list container
const DEFAULT_DENSITY = 420; // dpi, a Pixel's
const TOUCH_TARGET_DP = 48;

/** The smallest touch target in px at `density` (126 at 420 dpi). */
const touchTargetPx = (density) => Math.ceil((TOUCH_TARGET_DP * density) / 160);

const touchable = (el) => el.clickable || el.longClickable || el.checkable || el.editable;

/** The least an element may be squeezed to: a touch target when it (or a list's row) can be touched. */
function minHeight(el, touch) {
  if (el.items) return el.rows * (el.items.some(touchable) ? touch : 1);
  return touchable(el) ? touch : 1;
}
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

const cache = new WeakMap(); // screen -> density -> layout

/** Heights squeezed by `f` (never under their minimum) and the gaps between them: the flow's total. */
function squeezed(heights, mins, f) {
  const hs = heights.map((h, k) => Math.max(mins[k], Math.floor(h * f)));
  return {hs, total: hs.reduce((a, b) => a + b, 0) + GAP * f * Math.max(0, hs.length - 1)};
}

/** The largest squeeze factor in [0, 1] whose flow fits `avail` (0 when even the minimums do not). */
function fitFactor(heights, mins, avail) {
  if (squeezed(heights, mins, 1).total <= avail) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (squeezed(heights, mins, mid).total <= avail) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Bounds [x1,y1,x2,y2] per element index of a screen (null for invisible elements),
 * in content coordinates (before any scrolling); `.bottom` is where the content ends.
 * `density` (dpi) sets the least height of what can be touched.
 */
function layoutScreen(screen, density = DEFAULT_DENSITY) {
  let byDensity = cache.get(screen);
  if (!byDensity) cache.set(screen, (byDensity = new Map()));
  let out = byDensity.get(density);
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
  const touch = touchTargetPx(density);
  const heights = flow.map((i) => naturalHeight(screen.elements[i]));
  const mins = flow.map((i) => minHeight(screen.elements[i], touch));
  const f = screen.scrollable ? 1 : fitFactor(heights, mins, avail);
  const {hs} = squeezed(heights, mins, f);
  let y = top;
  flow.forEach((i, k) => {
    const h = hs[k];
    const el = screen.elements[i];
    const x2 = el.className === 'android.widget.ImageButton' ? MARGIN + h : SCREEN.width - MARGIN;
    out[i] = [MARGIN, Math.round(y), x2, Math.round(y) + h];
    y += h + GAP * f;
  });
  out.bottom = Math.max(Math.round(y), ...out.filter(Boolean).map((b) => b[3]));
  byDensity.set(density, out);
  return out;
}

module.exports = {SCREEN, VIEWPORT, DEFAULT_DENSITY, layoutScreen, touchTargetPx, naturalHeight, minHeight};
