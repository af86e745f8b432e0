'use strict';
// Element finding over the current view: id, accessibility id, class name and
// xpath (evaluated on the page-source XML with @xmldom/xmldom + xpath).
const {DOMParser} = require('@xmldom/xmldom');
const xpath = require('xpath');

class SelectorError extends Error {}

/** Parse the page source once per view; map DOM elements to view records. */
function domFor(view, xml) {
  if (view.dom) return view.dom;
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const nodeToRec = new Map();
  const recToNode = new Map();
  let k = 0;
  const walk = (n) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      const rec = view.records[k++];
      nodeToRec.set(c, rec);
      recToNode.set(rec, c);
      walk(c);
    }
  };
  walk(doc.documentElement);
  view.dom = {doc, nodeToRec, recToNode};
  return view.dom;
}

function idMatches(rec, sel, pkg) {
  if (!rec.resourceId) return false;
  if (rec.resourceId === sel) return true;
  if (sel.includes(':id/')) return false;
  return rec.resourceId === `${pkg}:id/${sel}` || rec.resourceId === `android:id/${sel}`;
}

/**
 * Records matching a locator, in document order.
 * @param ctx optional record: search only its descendants
 */
function findRecords(view, getXml, strategy, selector, ctx) {
  const inScope = ctx ? (r) => r.pre > ctx.pre && r.pre <= ctx.last : () => true;
  switch (strategy) {
    case 'id':
      return view.records.filter((r) => inScope(r) && idMatches(r, selector, view.pkg));
    case 'accessibility id':
      return view.records.filter((r) => inScope(r) && r.desc === selector);
    case 'class name':
    case 'tag name':
      return view.records.filter((r) => inScope(r) && r.className === selector);
    case 'xpath': {
      const {doc, nodeToRec, recToNode} = domFor(view, getXml());
      let nodes;
      try {
        nodes = xpath.select(selector, ctx ? recToNode.get(ctx) : doc);
      } catch (e) {
        throw new SelectorError(`Invalid xpath '${selector}': ${e.message}`);
      }
      if (!Array.isArray(nodes)) throw new SelectorError(`The xpath '${selector}' does not select elements`);
      return nodes.filter((n) => nodeToRec.has(n)).map((n) => nodeToRec.get(n));
    }
    default:
      throw new SelectorError(`Unsupported locator strategy '${strategy}'`);
  }
}

module.exports = {findRecords, SelectorError};
