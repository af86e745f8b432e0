'use strict';
// What model.js (generated apps) and recorded.js (recorded apps) both check a model with: the error
// they refuse it with, the shape checks, and a crash's spec. It sits in a module of its own so that
// neither of them has to require the other for it (model.js hands recorded models to recorded.js).

const JAVA_CLASS = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/;
const DEFAULT_EXCEPTION = 'java.lang.RuntimeException';

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

/** The frame `crash: true` throws from: a handler of the screen's activity named after the element. */
function defaultFrame(ctx) {
  const cls = fullActivity(ctx.pkg, ctx.activity);
  const file = cls.split('.').pop().split('$')[0];
  const name = String(ctx.elementId || 'view').replace(/[^A-Za-z0-9]+(.)?/g, (m, c) => (c ? c.toUpperCase() : ''));
  const verb = ctx.handler === 'onLongClick' ? 'LongClicked' : 'Clicked';
  let line = 0; // a stable line number per element, so two such crashes have different frames
  for (const ch of `${ctx.activity}#${ctx.elementId}`) line = (line * 31 + ch.charCodeAt(0)) % 400;
  return `${cls}.on${name.charAt(0).toUpperCase()}${name.slice(1)}${verb}(${file}.java:${40 + line})`;
}

/**
 * `crash: true` or `{exception, message, frames, probability}` -> the normalized object, or null.
 * `ctx` ({pkg, activity, elementId, handler}) names the frame `crash: true` throws from.
 */
function parseCrash(raw, where, ctx) {
  if (raw === undefined || raw === null || raw === false) return null;
  if (raw === true) return {exception: DEFAULT_EXCEPTION, message: null, frames: [defaultFrame(ctx)], probability: 1};
  if (!isObj(raw)) fail(where, `must be true or an object {exception, message, frames, probability}, got ${JSON.stringify(raw)}`);
  const exception = raw.exception === undefined || raw.exception === null ? DEFAULT_EXCEPTION
    : str(raw.exception, `${where}.exception`, {allowNumber: false});
  if (!JAVA_CLASS.test(exception)) fail(`${where}.exception`, `"${exception}" is not a qualified class name like java.lang.IllegalStateException`);
  const message = raw.message === undefined || raw.message === null ? null : str(raw.message, `${where}.message`);
  let frames = [defaultFrame(ctx)];
  if (raw.frames !== undefined && raw.frames !== null) {
    if (!Array.isArray(raw.frames)) fail(`${where}.frames`, 'must be a list of stack frames like "com.x.Y.m(Y.java:12)"');
    frames = raw.frames.map((f, i) => {
      const frame = str(f, `${where}.frames[${i}]`, {allowNumber: false}).trim();
      if (!frame || /\s/.test(frame)) fail(`${where}.frames[${i}]`, `must be one frame like "com.x.Y.m(Y.java:12)", got ${JSON.stringify(f)}`);
      return frame;
    });
  }
  const probability = raw.probability ?? 1;
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
    fail(`${where}.probability`, `must be a number from 0 to 1, got ${JSON.stringify(raw.probability)}`);
  }
  return {exception, message, frames, probability};
}

module.exports = {ModelError, isObj, fail, str, parseCrash, fullActivity};
