'use strict';
// Web content (APP_MODEL.md, "Web content"): a WebView's `web` parts, boxes of a page in screen pixels.
// UiAutomator2 sees a page as one node unless the WebView exposes its accessibility tree (`"exposed": true`:
// each part an android.view.View child with its text, not clickable, as Chrome exposes them). A touch inside
// a part's box applies its rules. `webMethods` are mixed into Device (device.js); this module requires
// neither it nor view.js.
const {node} = require('./node');
const {fail, isObj, str} = require('./validation');

const WEBVIEW = /(^|\.)WebView$/;

/**
 * `web` of an element of class `className`: {exposed, parts: [{box, text, onClick}]}, or null.
 * `parseRules(raw, where)` parses a part's onClick (model.js's, handed in: no require circle).
 */
function parseWeb(raw, where, className, exposed, parseRules) {
  if (raw === undefined || raw === null) return null;
  if (!WEBVIEW.test(className)) fail(`${where}.web`, `only a WebView (class android.webkit.WebView) holds web parts, not ${className}`);
  if (!Array.isArray(raw)) fail(`${where}.web`, 'must be a list of parts {box: [x1, y1, x2, y2], text, onClick}');
  if (exposed !== undefined && typeof exposed !== 'boolean') fail(`${where}.exposed`, `must be true or false, got ${JSON.stringify(exposed)}`);
  const parts = raw.map((p, i) => {
    const at = `${where}.web[${i}]`;
    if (!isObj(p)) fail(at, 'a part must be an object {box, text, onClick}');
    const box = p.box;
    if (!Array.isArray(box) || box.length !== 4 || !box.every(Number.isInteger) || box[2] < box[0] || box[3] < box[1]) {
      fail(`${at}.box`, `must be [x1, y1, x2, y2] in screen pixels with x1 <= x2 and y1 <= y2, got ${JSON.stringify(box)}`);
    }
    const text = p.text === undefined || p.text === null ? '' : str(p.text, `${at}.text`);
    return {box: [...box], text, onClick: parseRules(p.onClick, `${at}.onClick`)};
  });
  return {exposed: exposed === true, parts};
}

/** The part a touch at (x, y) lands on: the last one whose box holds the point. */
function partAt(web, x, y) {
  const hit = web.parts.filter(({box: [x1, y1, x2, y2]}) => x >= x1 && x < x2 && y >= y1 && y < y2);
  return hit.length ? hit[hit.length - 1] : null;
}

/** An exposed page's nodes (children of the WebView's node `parent`); none when it is not exposed. */
function webChildren(parent, fill) {
  const {web} = parent.el;
  if (!web.exposed) return [];
  return web.parts.map((part, k) => node({
    handle: `${parent.handle}.w${k}`, className: 'android.view.View', pkg: parent.pkg, text: fill(part.text),
    bounds: part.box, webView: parent, enabled: parent.enabled,
  }));
}

/** Device methods (`this` is the Device). */
const webMethods = {
  /** A touch at (x, y) on a WebView's record: the rules of the part there (the first whose `when` matches). */
  webTap(rec, x, y) {
    if (this.inputBlocked()) return;
    const app = this.fgApp;
    if (!app || rec.key === undefined || !rec.enabled) return;
    this.toast = null;
    this.changed();
    const part = partAt(rec.el.web, x, y);
    if (!part) return;
    const rule = part.onClick.find((r) => this.fires(app, app.visit, r));
    if (rule) this.apply(app, app.visit, rule, 'onClick');
  },
};

module.exports = {parseWeb, partAt, webChildren, webMethods};
