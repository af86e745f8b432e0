'use strict';
// Other installed apps (APP_MODEL.md, "Other apps"): an `open` rule brings one to the foreground over the
// app that opened it (its caller), which waits where it was; back from the opened app's first screen
// returns to the caller. `otherAppMethods` are mixed into Device (device.js).

const otherAppMethods = {
  /** `from` opens `pkg` (on `screenName`, else its start screen), as an intent starts another app's activity. */
  openApp(from, pkg, screenName = null) {
    const app = this.apps.get(pkg);
    if (!app) return; // removed since: the intent resolves to nothing
    const screen = screenName ?? app.model.start;
    this.keyboard = null;
    this.toast = null;
    if (app.running) {
      app.stack = [this.newVisit(app, screen)]; // a new task for the intent
      this.logcat.started(app.proc, app.visit.screen.activity, from.uid);
      this.logcat.displayed(app.proc, app.visit.screen.activity, this.launchMs(app.visit));
    } else {
      this.logcat.started(app.proc, app.model.screens[screen].activity, from.uid);
      this.startProcess(app, screen);
    }
    app.caller = from.model.package;
    this.fg = pkg;
    this.changed();
    this.shown(app);
  },

  /** Back from an opened app's first screen: its caller comes to the foreground where it was. */
  returnToCaller(app) {
    const caller = app.caller ? this.apps.get(app.caller) : null;
    app.caller = null;
    if (!caller || !caller.running) return false;
    this.fg = caller.model.package;
    this.changed();
    return true;
  },
};

module.exports = {otherAppMethods};
