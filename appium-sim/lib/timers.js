'use strict';
// Screens that change by themselves (APP_MODEL.md, "Time: screens that change by themselves"): a screen's
// `after` ({ms, rules}) applies its rules once the screen has been shown that long without leaving it, and
// while it waits its `loading` elements show as an indeterminate ProgressBar. No timer runs: the driver lets
// the clock move on at each command (`fireTimers`, before it) and notes what is on screen after it
// (`observeScreen`), so a due screen changes for the first command after its time, as of that time.
// `timerMethods` are mixed into Device (device.js); this module requires neither it nor model.js (model.js
// hands `parseAfter` its rule parser), so no require circle.
const {fail, isObj} = require('./validation');

const MAX_CHAIN = 16; // screens leading from `after` to `after` within one command: a loop stops there
const MAX_MS = 600000;

/** A screen's `after`: `{ms, rules}`; `parseRules(raw, where)` parses the rules as any screen's rules. */
function parseAfter(raw, where, parseRules) {
  if (raw === undefined || raw === null) return null;
  if (!isObj(raw)) fail(where, `must be an object {"ms": <milliseconds>, "rules": [...]}, got ${JSON.stringify(raw)}`);
  if (raw.ms === undefined || raw.ms === null) fail(`${where}.ms`, 'is required: how long the screen is shown before its rules apply (milliseconds)');
  if (typeof raw.ms !== 'number' || !(raw.ms >= 0 && raw.ms <= MAX_MS)) {
    fail(`${where}.ms`, `must be a number of milliseconds from 0 to ${MAX_MS}, got ${JSON.stringify(raw.ms)}`);
  }
  if (raw.rules === undefined || raw.rules === null) fail(`${where}.rules`, 'is required: the rules that apply when the time is up');
  const rules = parseRules(raw.rules, `${where}.rules`);
  if (!rules.length) fail(`${where}.rules`, 'must hold at least one rule');
  return {ms: raw.ms, rules};
}

/** Whether a visit still waits for its screen's `after` (its `loading` elements show). */
const waiting = (visit) => Boolean(visit && visit.screen.after && !visit.afterFired);

/** Device methods (`this` is the Device). */
const timerMethods = {
  /** The visit whose `after` runs now: the foreground app's top visit, waiting, with nothing over it. */
  timedVisit() {
    const app = this.fgApp;
    if (!app || !app.running || this.dialog || app.request || this.inputBlocked()) return null;
    return waiting(app.visit) ? app.visit : null;
  },

  /** What is on screen after a command (or as of `at`): a visit shown anew starts its wait. */
  observeScreen(at = this.now()) {
    const visit = this.timedVisit();
    if (visit === (this.timing ? this.timing.visit : null)) return;
    this.timing = visit ? {visit, since: at} : null;
  },

  /** The clock moved: a screen shown long enough applies its `after` rules (and the next one, if it is due too). */
  fireTimers() {
    this.observeScreen();
    for (let n = 0; n < MAX_CHAIN && this.timing; n++) {
      const {visit, since} = this.timing;
      const due = since + visit.screen.after.ms;
      if (this.now() < due) return;
      const app = this.fgApp;
      visit.afterFired = true;
      this.timing = null;
      this.changed();
      const rule = visit.screen.after.rules.find((r) => this.fires(app, visit, r));
      if (rule) this.apply(app, visit, rule, 'after');
      this.observeScreen(due); // the screen it led to was shown when the time was up
    }
  },
};

module.exports = {parseAfter, timerMethods, waiting};
