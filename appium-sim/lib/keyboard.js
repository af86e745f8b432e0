'use strict';
// The soft keyboard (APP_MODEL.md, "The soft keyboard"): shown by tapping or typing into a field, hidden by
// hide_keyboard, back or leaving the screen. It is another window: the page source (the app's window) does
// not show it, but a touch on it (the bottom 40% of the display) reaches the keyboard, not the app.
// `keyboardMethods` are mixed into Device (device.js).

const KEYBOARD_TOP = 0.6; // the keyboard covers the display from 60% of its height down

const keyboardMethods = {
  /** The keyboard comes up for the app's current screen. */
  showKeyboard(app) {
    this.keyboard = {pkg: app.model.package, serial: app.visit.serial};
  },

  /** Whether it shows now: the app it came up for is in front, on that screen, with nothing over it. */
  keyboardShown() {
    const k = this.keyboard;
    const app = this.fgApp;
    return Boolean(k && app && app.running && !this.dialog && !app.request && !app.visit.screen.recorded
      && k.pkg === app.model.package && k.serial === app.visit.serial);
  },

  /** Hide it; whether it was shown. */
  hideKeyboard() {
    const shown = this.keyboardShown();
    this.keyboard = null;
    return shown;
  },

  /** Whether a touch at (x, y) lands on the keyboard (and so does nothing to the app). */
  onKeyboard(x, y) {
    return this.keyboardShown() && y >= Math.round(this.display.height * KEYBOARD_TOP);
  },
};

module.exports = {keyboardMethods, KEYBOARD_TOP};
