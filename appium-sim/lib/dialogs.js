'use strict';
// Screens drawn as dialogs (APP_MODEL.md, "Time: screens that change by themselves"): a screen with
// `"dialog": true` is a window over the screen below it on the stack, as an AlertDialog is over its
// activity. Both are in the page source, the dialog's window last; only the top window takes touches.
// This module requires neither device.js nor view.js (view.js draws with it), so no require circle.
const {SCREEN, DEFAULT_DENSITY, naturalHeight, minHeight, touchTargetPx} = require('./layout');
const {node} = require('./node');

// The card of Material's AlertDialog on a 1080x2400 display: inset from the sides, centred.
const CARD = {x1: 77, x2: 1003, pad: 66, gap: 24};

/** The visits drawn now: the top one and, under a dialog, the visits below down to the first that is no dialog. */
function drawnVisits(stack) {
  let k = stack.length - 1;
  while (k > 0 && stack[k].screen.dialog) k--;
  return stack.slice(Math.max(0, k));
}

const cache = new WeakMap(); // screen -> density -> layout

/** Bounds per element index of a dialog screen (null for invisible ones) and `.card`, the dialog's box. */
function layoutDialog(screen, density = DEFAULT_DENSITY) {
  let byDensity = cache.get(screen);
  if (!byDensity) cache.set(screen, (byDensity = new Map()));
  if (byDensity.has(density)) return byDensity.get(density);
  const touch = touchTargetPx(density);
  const out = screen.elements.map(() => null);
  const flow = [];
  screen.elements.forEach((el, i) => {
    if (!el.visible) return;
    if (el.bounds) out[i] = el.bounds;
    else flow.push([i, Math.max(naturalHeight(el), minHeight(el, touch))]);
  });
  const inner = flow.reduce((a, [, h]) => a + h, 0) + CARD.gap * Math.max(0, flow.length - 1);
  const height = Math.min(SCREEN.height - SCREEN.statusBar - SCREEN.navBar, inner + 2 * CARD.pad);
  const top = Math.round((SCREEN.height - height) / 2);
  let y = top + CARD.pad;
  for (const [i, h] of flow) {
    const el = screen.elements[i];
    const x1 = CARD.x1 + CARD.pad;
    out[i] = [x1, y, el.className === 'android.widget.ImageButton' ? x1 + h : CARD.x2 - CARD.pad, y + h];
    y += h + CARD.gap;
  }
  out.card = [CARD.x1, top, CARD.x2, top + height];
  byDensity.set(density, out);
  return out;
}

/** The dialog's window: its decor (the card, drawn light in screenshots) > android:id/content > its elements. */
function dialogWindow(prefix, pkg, card, children) {
  const content = node({handle: `${prefix}.c1`, pkg, resourceId: 'android:id/content', bounds: card, children});
  return node({handle: `${prefix}.c0`, pkg, bounds: card, children: [content], system: true, card: true});
}

/** A window under a dialog: its nodes stay in the page source as they are, but take no touch or key. */
function cover(root) {
  const walk = (n) => {
    n.key = undefined;
    n.covered = true;
    n.children.forEach(walk);
  };
  walk(root);
  return root;
}

module.exports = {drawnVisits, layoutDialog, dialogWindow, cover, CARD};
