'use strict';
// Recorded page sources (APP_MODEL.md, "Recorded real apps"): UiAutomator2's `<hierarchy>` with tags
// named by class, or a `uiautomator dump` (`<node>` tags). Real ones hold what a real device returns,
// character references to control characters included (XML 1.0 forbids them, so no strict parser
// reads them): this small parser keeps every attribute as it was written (`raw`, served again as
// recorded) and decodes it for reading (`get`). It never expands a DOCTYPE's entities: a reference
// to one stays as written, and the DOCTYPE is served back with the page.

class PageSourceError extends Error {}

const NAMED = {lt: '<', gt: '>', amp: '&', quot: '"', apos: "'"};
const REFERENCE = /&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g;
const NAME = /[^\s=/>"'<]+/y;
const EDITABLE_SUFFIXES = ['EditText', 'AutoCompleteTextView']; // as the agent reads a field
const BOUNDS = /^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$/;

/** An attribute's value as a parser reads it: white space normalized, references decoded (unknown ones kept). */
function decode(raw) {
  const s = raw.replace(/[\t\n\r]/g, ' ');
  if (!s.includes('&')) return s;
  return s.replace(REFERENCE, (m, ref) => {
    if (ref[0] !== '#') return Object.hasOwn(NAMED, ref) ? NAMED[ref] : m;
    const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** A recorded value written back: its references as they were, only what would break the XML escaped. */
function reescape(raw) {
  return raw.replace(/&(?!#[xX][0-9a-fA-F]+;|#[0-9]+;|[A-Za-z_][\w.-]*;)/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function lineOf(text, offset) {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** `{prolog, root}`: the element tree ({tag, attrs: [[name, raw]], children}); prolog is set only with a DOCTYPE. */
function parseXml(text) {
  const fail = (at, msg) => {
    throw new PageSourceError(`line ${lineOf(text, at)}: ${msg}`);
  };
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack = [];
  let root = null;
  let doctype = false;
  let prologEnd = 0;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const gap = text.slice(i, lt < 0 ? n : lt);
    if (!stack.length && gap.trim()) fail(i, `text outside the root element: ${JSON.stringify(gap.trim().slice(0, 40))}`);
    if (lt < 0) break;
    const skipTo = (end, what) => {
      const at = text.indexOf(end, lt);
      if (at < 0) fail(lt, `unterminated ${what}`);
      i = at + end.length;
    };
    if (text.startsWith('<?', lt)) { skipTo('?>', 'processing instruction'); continue; }
    if (text.startsWith('<!--', lt)) { skipTo('-->', 'comment'); continue; }
    if (text.startsWith('<![CDATA[', lt)) { skipTo(']]>', 'CDATA section'); continue; }
    if (text.startsWith('<!', lt)) { // <!DOCTYPE ... [internal subset]>
      if (root) fail(lt, 'a declaration after the root element');
      let j = lt + 2;
      let depth = 0;
      for (; j < n; j++) {
        const c = text[j];
        if (c === '"' || c === "'") {
          const close = text.indexOf(c, j + 1);
          if (close < 0) break;
          j = close;
        } else if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      if (j >= n) fail(lt, 'unterminated declaration');
      doctype = true;
      i = j + 1;
      continue;
    }
    if (text[lt + 1] === '/') {
      const gt = text.indexOf('>', lt);
      if (gt < 0) fail(lt, 'unterminated end tag');
      const name = text.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (!open) fail(lt, `</${name}> closes nothing`);
      if (open.tag !== name) fail(lt, `</${name}> closes <${open.tag}>`);
      i = gt + 1;
      continue;
    }
    NAME.lastIndex = lt + 1;
    const tagMatch = NAME.exec(text);
    if (!tagMatch) fail(lt, 'a "<" that starts no tag');
    const el = {tag: tagMatch[0], attrs: [], children: [], at: lt};
    let j = NAME.lastIndex;
    let closed = false;
    for (;;) {
      while (j < n && /\s/.test(text[j])) j++;
      if (j >= n) fail(lt, `unterminated <${el.tag}>`);
      if (text.startsWith('/>', j)) { closed = true; j += 2; break; }
      if (text[j] === '>') { j += 1; break; }
      NAME.lastIndex = j;
      const attr = NAME.exec(text);
      if (!attr) fail(j, `unexpected ${JSON.stringify(text[j])} in <${el.tag}>`);
      j = NAME.lastIndex;
      while (j < n && /\s/.test(text[j])) j++;
      if (text[j] !== '=') fail(j, `attribute ${attr[0]} of <${el.tag}> has no value`);
      j++;
      while (j < n && /\s/.test(text[j])) j++;
      const quote = text[j];
      if (quote !== '"' && quote !== "'") fail(j, `attribute ${attr[0]} of <${el.tag}> is not quoted`);
      const end = text.indexOf(quote, j + 1);
      if (end < 0) fail(j, `unterminated value of attribute ${attr[0]}`);
      el.attrs.push([attr[0], text.slice(j + 1, end)]);
      j = end + 1;
    }
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) fail(lt, `a second root element <${el.tag}>`);
    else {
      root = el;
      prologEnd = lt;
    }
    if (!closed) stack.push(el);
    i = j;
  }
  if (stack.length) fail(stack[stack.length - 1].at, `<${stack[stack.length - 1].tag}> is never closed`);
  if (!root) throw new PageSourceError('no element in it');
  return {root, prolog: doctype ? text.slice(text.charCodeAt(0) === 0xfeff ? 1 : 0, prologEnd) : null};
}

function parseBounds(value) {
  const m = value === undefined ? null : BOUNDS.exec(value.replace(/\s+/g, ''));
  return m ? m.slice(1).map(Number) : null;
}

const isTrue = (v) => v === 'true';

/**
 * A recorded screen from its page source: `tops` (the hierarchy's windows), `nodes` (all, in document
 * order, each with `k` its position), the display's `width`/`height` (the hierarchy's, else the root's
 * bounds) and `rotation`. A node keeps `attrs` (raw) and `values` (decoded) and reads its flags from them.
 */
function parseRecordedSource(text) {
  const {root, prolog} = parseXml(text);
  const hierarchy = root.tag === 'hierarchy' ? root : null;
  const nodes = [];
  const build = (el, parent) => {
    const values = new Map();
    for (const [k, raw] of el.attrs) if (!values.has(k)) values.set(k, decode(raw));
    const className = values.get('class') ?? (el.tag === 'node' ? '' : el.tag);
    const n = {
      k: nodes.length, tag: el.tag, attrs: el.attrs, values, parent, className,
      bounds: parseBounds(values.get('bounds')),
      clickable: isTrue(values.get('clickable')),
      longClickable: isTrue(values.get('long-clickable')),
      scrollable: isTrue(values.get('scrollable')),
      editable: EDITABLE_SUFFIXES.some((s) => className.endsWith(s)),
      children: [],
    };
    nodes.push(n);
    n.children = el.children.map((c) => build(c, n));
    return n;
  };
  const tops = (hierarchy ? hierarchy.children : [root]).map((el) => build(el, null));
  const hv = new Map((hierarchy ? hierarchy.attrs : []).map(([k, raw]) => [k, decode(raw)]));
  const dim = (k) => (/^\d+$/.test(hv.get(k) ?? '') && Number(hv.get(k)) > 0 ? Number(hv.get(k)) : null);
  let width = dim('width');
  let height = dim('height');
  if (width === null || height === null) {
    const boxes = tops.map((t) => t.bounds).filter(Boolean);
    const right = Math.max(0, ...boxes.map((b) => b[2]));
    const bottom = Math.max(0, ...boxes.map((b) => b[3]));
    if (right > 0 && bottom > 0) [width, height] = [right, bottom];
    else [width, height] = [1080, 2400];
  }
  return {tops, nodes, width, height, rotation: hv.get('rotation') ?? '0', prolog};
}

const contains = (b, x, y) => Boolean(b) && x >= b[0] && x < b[2] && y >= b[1] && y < b[3];

// The flag a kind of action looks for on the way up from the node under the finger.
const FLAG = {
  tap: (n) => n.clickable,
  long_press: (n) => n.longClickable,
  scroll: (n) => n.scrollable,
  type: (n) => n.editable,
};

/**
 * The node an action of `kind` at `point` acts on, as a touch lands on a phone: from the root down
 * through the last-drawn child whose bounds contain the point, as deep as the tree goes; then up to
 * the first node with the kind's flag, or that node itself. `outside` stands for a point no window holds.
 */
function landsOn(screen, kind, [x, y]) {
  let hit = null;
  let list = screen.tops;
  for (;;) {
    let next = null;
    for (let i = list.length - 1; i >= 0; i--) {
      if (contains(list[i].bounds, x, y)) {
        next = list[i];
        break;
      }
    }
    if (!next) break;
    hit = next;
    list = next.children;
  }
  if (!hit) return screen.outside ?? (screen.outside = {outside: true});
  const flag = FLAG[kind];
  if (flag) for (let n = hit; n; n = n.parent) if (flag(n)) return n;
  return hit;
}

/** The centre of a box, where an action on an element lands. */
const centre = (b) => (b ? [Math.floor((b[0] + b[2]) / 2), Math.floor((b[1] + b[3]) / 2)] : [0, 0]);

/** The node `element` names: `resource-id`, `text`, `content-desc`, `class` all equal; the `nth` (0-based) such. */
function findNode(screen, element) {
  let left = element.nth ?? 0;
  for (const n of screen.nodes) {
    const ok = Object.entries(element.attrs).every(([k, v]) => (k === 'class' ? n.className : n.values.get(k) ?? '') === v);
    if (ok && left-- === 0) return n;
  }
  return null;
}

module.exports = {parseRecordedSource, parseXml, decode, reescape, landsOn, findNode, centre, PageSourceError, EDITABLE_SUFFIXES};
