'use strict';
// Faults of the device (APP_MODEL.md, "Faults of the device"), asked for with the session capability
// `appium:simFaults`: the UiAutomator2 server crashing after some commands (`serverCrashAfter`), slow page
// sources (`slowSource`, capped by the `waitForIdleTimeout` setting), and, for tests of a client's own
// timeout, a server that stops answering (`hangAfter`, simulator-only). Also the session's settings as
// UiAutomator2 answers them (Appium's settings API). Requires neither device.js nor driver.js.
const {errors} = require('appium/driver');

const CRASHED = 'An unknown server-side error occurred while processing the command. ' +
  "Original error: 'Instrumentation process is not running (probably crashed)'";
const KEYS = ['serverCrashAfter', 'slowSource', 'hangAfter'];
const CAP = 'appium:simFaults';

class FaultError extends Error {}

// UiAutomator2's settings and their defaults (GET /appium/settings answers them); others are kept as given.
const DEFAULT_SETTINGS = {
  actionAcknowledgmentTimeout: 3000, allowInvisibleElements: false, elementResponseAttributes: '',
  enableMultiWindows: false, ignoreUnimportantViews: false, keyInjectionDelay: 0, normalizeTagNames: false,
  scrollAcknowledgmentTimeout: 200, shouldUseCompactResponses: true, waitForIdleTimeout: 10000,
  waitForSelectorTimeout: 10000,
};
const MS_SETTINGS = ['actionAcknowledgmentTimeout', 'keyInjectionDelay', 'scrollAcknowledgmentTimeout',
  'waitForIdleTimeout', 'waitForSelectorTimeout'];

/** A setting changes: times must be whole numbers of milliseconds, 0 or more (as UiAutomator2 reads a long). */
async function checkSetting(name, value) {
  if (MS_SETTINGS.includes(name) && !(Number.isInteger(value) && value >= 0)) {
    throw new errors.InvalidArgumentError(`The setting '${name}' must be a whole number of milliseconds, 0 or more, got ${JSON.stringify(value)}`);
  }
}

const positiveInt = (v) => Number.isInteger(v) && v > 0;
const positive = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const bad = (msg) => {
  throw new FaultError(`${CAP}${msg.startsWith(".") ? "" : " "}${msg}`);
};

/** The capability's value -> {serverCrashAfter, slowSource: {every, ms}, hangAfter} (absent ones null); refuses bad input. */
function parseFaults(raw) {
  const out = {serverCrashAfter: null, slowSource: null, hangAfter: null};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) bad(`must be an object like {"serverCrashAfter": 150}, got ${JSON.stringify(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!KEYS.includes(key)) bad(`has an unknown fault "${key}" (faults: ${KEYS.join(', ')})`);
  }
  for (const key of ['serverCrashAfter', 'hangAfter']) {
    if (raw[key] === undefined) continue;
    if (!positiveInt(raw[key])) bad(`.${key} must be a positive whole number of commands, got ${JSON.stringify(raw[key])}`);
    out[key] = raw[key];
  }
  const slow = raw.slowSource;
  if (slow !== undefined) {
    if (typeof slow !== 'object' || slow === null || Array.isArray(slow)) {
      bad(`.slowSource must be an object {"every": <reads>, "ms": <milliseconds>}, got ${JSON.stringify(slow)}`);
    }
    for (const key of Object.keys(slow)) {
      if (key !== 'every' && key !== 'ms') bad(`.slowSource has an unknown key "${key}" (keys: every, ms)`);
    }
    if (!positiveInt(slow.every)) bad(`.slowSource.every must be a positive whole number of page-source reads, got ${JSON.stringify(slow.every)}`);
    if (!positive(slow.ms)) bad(`.slowSource.ms must be a positive number of milliseconds, got ${JSON.stringify(slow.ms)}`);
    out.slowSource = {every: slow.every, ms: slow.ms};
  }
  return out;
}

/** One session's faults: counts its commands and page-source reads; `end()` when the session goes. */
class Faults {
  constructor(spec) {
    this.spec = spec;
    this.commands = 0;
    this.sourceReads = 0;
    this.ended = false;
    this.waits = new Set(); // pending hangs and slow reads: {resolve, timer}
  }

  /** Before a command of the session (not its deletion): throws once the server crashed, never settles once it hangs. */
  async before() {
    if (this.ended) return;
    this.commands++;
    const {serverCrashAfter, hangAfter} = this.spec;
    if (hangAfter !== null && this.commands > hangAfter) {
      await this.wait(null); // the server stopped answering: only deleting the session ends the wait
      throw new errors.NoSuchDriverError('The session was deleted while the UiAutomator2 server did not answer');
    }
    if (serverCrashAfter !== null && this.commands > serverCrashAfter) throw new errors.UnknownError(CRASHED);
  }

  /** Milliseconds this page-source read takes: every `every`-th read waits `ms`, capped by waitForIdleTimeout. */
  sourceDelay(waitForIdleTimeout) {
    const slow = this.spec.slowSource;
    if (!slow) return 0;
    this.sourceReads++;
    if (this.sourceReads % slow.every !== 0) return 0;
    return Math.min(slow.ms, Number.isFinite(waitForIdleTimeout) ? waitForIdleTimeout : slow.ms);
  }

  /** Wait `ms` (null: until the session ends); ending the session ends every wait. */
  wait(ms) {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const w = {resolve, timer: null};
      const done = () => {
        if (w.timer) clearTimeout(w.timer);
        this.waits.delete(w);
        resolve();
      };
      w.resolve = done;
      if (ms !== null) w.timer = setTimeout(done, ms);
      this.waits.add(w);
    });
  }

  end() {
    this.ended = true;
    for (const w of [...this.waits]) w.resolve();
  }
}

module.exports = {parseFaults, Faults, FaultError, DEFAULT_SETTINGS, checkSetting, CRASHED};
