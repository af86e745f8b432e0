'use strict';
// Commands of SimulatorDriver (mixed into its prototype; `this` is the driver).
const {errors} = require('appium/driver');
const {SimError, APP_STATE} = require('./device');
const {loadModel, ModelError} = require('./model');
const {findRecords, SelectorError} = require('./find');
const {attributes} = require('./view');
const {renderPng} = require('./screenshot');
const {screenshotPng, centre} = require('./recorded');
const {landsOn} = require('./pagesource');

const W3C_ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const KEY = {HOME: 3, BACK: 4, DEL: 67, SPACE: 62};
const LONG_PRESS_MS = 500; // Android's long-press timeout
const OPPOSITE = {up: 'down', down: 'up', left: 'right', right: 'left'};
const scrollHeight = (rec) => Math.max(1, rec.bounds[3] - rec.bounds[1]);
const wrap = (rec) => ({[W3C_ELEMENT]: rec.handle, ELEMENT: rec.handle});

function simCall(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SimError || e instanceof ModelError) throw new errors.InvalidArgumentError(e.message);
    throw e;
  }
}

/** Characters typed by a key code (letters, digits, space), or null. */
function keyChar(code) {
  if (code >= 7 && code <= 16) return String(code - 7);
  if (code >= 29 && code <= 54) return String.fromCharCode(97 + code - 29);
  if (code === KEY.SPACE) return ' ';
  return null;
}

function attributeOf(rec, name) {
  const alias = {
    resourceId: 'resource-id', contentDescription: 'content-desc', 'content-description': 'content-desc',
    className: 'class', longClickable: 'long-clickable', 'long-clickable': 'long-clickable',
  };
  const key = alias[name] ?? name;
  if (key === 'text') return rec.text;
  if (key === 'name') return rec.desc || rec.text;
  if (key === 'value') return rec.text;
  const found = attributes(rec).find(([k]) => k === key);
  return found ? found[1] : null;
}

module.exports = {
  // --- elements -----------------------------------------------------------
  simElement(elementId) {
    const id = typeof elementId === 'object' && elementId ? elementId[W3C_ELEMENT] ?? elementId.ELEMENT : elementId;
    const rec = this.view().byHandle.get(String(id));
    if (rec) return rec;
    if (/^[vld]\d+\./.test(String(id))) {
      throw new errors.StaleElementReferenceError(`The element '${id}' does not exist in the current screen any more (stale element reference)`);
    }
    throw new errors.NoSuchElementError(`No element with id '${id}'`);
  },

  async findElOrEls(strategy, selector, mult, context) {
    const view = this.view();
    const ctx = context ? this.simElement(context) : undefined;
    let found;
    try {
      found = findRecords(view, () => this.findXml(), strategy, selector, ctx);
    } catch (e) {
      if (e instanceof SelectorError) throw new errors.InvalidSelectorError(e.message);
      throw e;
    }
    if (mult) return found.map(wrap);
    if (!found.length) throw new errors.NoSuchElementError(`No element found using ${strategy} '${selector}'`);
    return wrap(found[0]);
  },

  /** A slow read (simFaults.slowSource) waits as UiAutomator2 waiting for the screen to go idle, at most waitForIdleTimeout. */
  async getPageSource() {
    const ms = this.faults ? this.faults.sourceDelay(this.settings.getSettings().waitForIdleTimeout) : 0;
    if (ms > 0) await this.faults.wait(ms);
    if (!this.device) throw new errors.NoSuchDriverError('The session was deleted while the page source was read');
    if (ms > 0) this.device.tick(); // the read waited: what is on screen at its end
    return this.xml();
  },

  async click(elementId) {
    const rec = this.simElement(elementId);
    if (rec.recordedNode) return this.device.recordedAction({kind: 'tap', point: centre(rec.bounds)});
    // a WebView (or a node of its exposed page) is clicked at the element's centre: the page's part there
    const web = rec.webView ?? (rec.el && rec.el.web ? rec : null);
    if (web) return this.device.webTap(web, ...centre(rec.bounds));
    this.device.click(rec);
  },

  async setValue(text, elementId) {
    const rec = this.simElement(elementId);
    const value = Array.isArray(text) ? text.join('') : String(text ?? '');
    if (rec.recordedNode) return this.typeRecorded(rec, value, true);
    try {
      this.device.type(rec, value);
    } catch (e) {
      if (e instanceof SimError) throw new errors.InvalidElementStateError(e.message);
      throw e;
    }
  },

  async clear(elementId) {
    const rec = this.simElement(elementId);
    if (rec.recordedNode) return this.typeRecorded(rec, '', false); // clearing is not a type action
    return await this.setValue('', elementId);
  },

  /**
   * Text into an element of a recorded screen. It lands at the element's centre: the text shows in
   * the element if it is a field, else in the field the action lands on there (or the element).
   */
  typeRecorded(rec, text, asAction) {
    const point = centre(rec.bounds);
    const app = this.device.recordedApp;
    const under = app ? landsOn(app.visit.screen.recorded, 'type', point) : null;
    const key = rec.editable || !under || !under.editable ? rec.key : `#${under.k}`;
    this.device.recordedType(key, text, point, asAction);
  },

  async getText(elementId) {
    return this.simElement(elementId).text;
  },

  async getAttribute(name, elementId) {
    return attributeOf(this.simElement(elementId), name);
  },

  async getProperty(name, elementId) {
    return attributeOf(this.simElement(elementId), name);
  },

  async getName(elementId) {
    return this.simElement(elementId).className;
  },

  async getElementRect(elementId) {
    const [x1, y1, x2, y2] = this.simElement(elementId).bounds;
    return {x: x1, y: y1, width: x2 - x1, height: y2 - y1};
  },

  async getLocation(elementId) {
    const {x, y} = await this.getElementRect(elementId);
    return {x, y};
  },

  async getSize(elementId) {
    const {width, height} = await this.getElementRect(elementId);
    return {width, height};
  },

  async elementDisplayed(elementId) {
    this.simElement(elementId);
    return true; // invisible elements are not in the hierarchy at all
  },

  async elementEnabled(elementId) {
    return this.simElement(elementId).enabled;
  },

  async elementSelected(elementId) {
    const rec = this.simElement(elementId);
    return rec.selected || rec.checked;
  },

  // --- gestures -----------------------------------------------------------
  /** The element a finger at (x, y) lands on: the last drawn one containing the point that `accepts` it. */
  hitAt(x, y, accepts) {
    const hit = this.view().records.filter((r) => {
      const [x1, y1, x2, y2] = r.bounds;
      return accepts(r) && x >= x1 && x < x2 && y >= y1 && y < y2;
    });
    return hit.length ? hit[hit.length - 1] : null;
  },

  tapAt(x, y) {
    if (this.view().recorded) return this.device.recordedAction({kind: 'tap', point: [x, y]});
    if (this.device.onKeyboard(x, y)) return; // the keyboard's window takes the touch
    const rec = this.hitAt(x, y, (r) => (r.key !== undefined || r.launcherApp || r.dialogAction || r.permissionAction)
      && (r.clickable || r.checkable || (r.el && (r.el.editable || r.el.web))));
    if (rec && rec.el && rec.el.web && !rec.clickable) return this.device.webTap(rec, x, y);
    if (rec) this.device.click(rec);
  },

  longPressAt(x, y) {
    if (this.view().recorded) return this.device.recordedAction({kind: 'long_press', point: [x, y]});
    if (this.device.onKeyboard(x, y)) return;
    const rec = this.hitAt(x, y, (r) => r.key !== undefined && r.longClickable);
    if (rec) this.device.longClick(rec);
  },

  /** A finger moved from `from` to `to`: scrolls the innermost scrollable view under where it went down. */
  swipeAt(from, to) {
    const [dx, dy] = [from[0] - to[0], from[1] - to[1]];
    if (this.view().recorded) {
      // the content follows the finger: a finger moving up (or left) shows what lies below (or right)
      const direction = Math.abs(dy) >= Math.abs(dx) ? (dy > 0 ? 'down' : 'up') : (dx > 0 ? 'right' : 'left');
      return this.device.recordedAction({kind: 'scroll', point: from, direction});
    }
    if (this.device.onKeyboard(from[0], from[1])) return; // a swipe on the keyboard
    const rec = this.hitAt(from[0], from[1], (r) => r.scrollable);
    if (!rec || Math.abs(dx) > Math.abs(dy)) return; // lists here scroll vertically only
    this.device.scroll(rec, dy > 0 ? 'down' : 'up', Math.abs(dy) / scrollHeight(rec));
  },

  async performActions(actions) {
    for (const source of actions || []) {
      if (source.type !== 'pointer') continue;
      let x = 0;
      let y = 0;
      let down = null;
      let held = 0; // ms between down and up: 500 or more makes a long press
      for (const a of source.actions || []) {
        if (a.type === 'pointerMove') {
          let ox = 0;
          let oy = 0;
          if (a.origin === 'pointer') {
            ox = x; oy = y;
          } else if (a.origin && typeof a.origin === 'object') {
            const [x1, y1, x2, y2] = this.simElement(a.origin).bounds;
            ox = Math.floor((x1 + x2) / 2); oy = Math.floor((y1 + y2) / 2);
          }
          x = ox + Number(a.x || 0);
          y = oy + Number(a.y || 0);
          held += Number(a.duration || 0);
        } else if (a.type === 'pause') {
          held += Number(a.duration || 0);
        } else if (a.type === 'pointerDown') {
          down = [x, y];
          held = 0;
        } else if (a.type === 'pointerUp' && down) {
          // a finger lifted near where it went down taps (or long-presses); one that moved swipes
          if (Math.abs(x - down[0]) > 30 || Math.abs(y - down[1]) > 30) this.swipeAt(down, [x, y]);
          else if (held >= LONG_PRESS_MS) this.longPressAt(down[0], down[1]);
          else this.tapAt(down[0], down[1]);
          down = null;
        }
      }
    }
  },

  async releaseActions() {},

  async mobileClickGesture(elementId, x, y) {
    if (elementId) return await this.click(elementId);
    if (x === undefined || y === undefined) throw new errors.InvalidArgumentError('clickGesture needs elementId or x and y');
    this.tapAt(Number(x), Number(y));
  },

  async mobileLongClickGesture(elementId, x, y) {
    if (elementId) {
      const rec = this.simElement(elementId);
      if (rec.recordedNode) return this.longPressAt(...centre(rec.bounds));
      return this.device.longClick(rec);
    }
    if (x === undefined || y === undefined) throw new errors.InvalidArgumentError('longClickGesture needs elementId or x and y');
    this.longPressAt(Number(x), Number(y));
  },

  /** UiAutomator2's scrollGesture: `direction` is where the content comes from; true when more can scroll that way. */
  async mobileScrollGesture(elementId, left, top, width, height, direction, percent) {
    const {rec, dir, amount, point} = this.gestureArea('scrollGesture', {elementId, left, top, width, height, direction, percent});
    if (point) {
      this.device.recordedAction({kind: 'scroll', point, direction: dir});
      return this.device.recordedCanScroll(dir);
    }
    return this.device.scroll(rec, dir, amount);
  },

  /** UiAutomator2's swipeGesture: `direction` is where the finger moves, so "up" scrolls down. */
  async mobileSwipeGesture(elementId, left, top, width, height, direction, percent) {
    const {rec, dir, amount, point} = this.gestureArea('swipeGesture', {elementId, left, top, width, height, direction, percent});
    if (point) return this.device.recordedAction({kind: 'scroll', point, direction: OPPOSITE[dir]});
    this.device.scroll(rec, OPPOSITE[dir], amount);
  },

  /** The scrollable view a scroll or swipe gesture acts on: the element (or its scrollable ancestor), or the one at the area's centre. */
  gestureArea(name, {elementId, left, top, width, height, direction, percent}) {
    const dir = String(direction ?? '').toLowerCase();
    if (!Object.hasOwn(OPPOSITE, dir)) {
      throw new errors.InvalidArgumentError(`${name}: direction must be one of up, down, left, right; got ${JSON.stringify(direction)}`);
    }
    const amount = Number(percent);
    if (percent === undefined || percent === null || !Number.isFinite(amount) || amount <= 0) {
      throw new errors.InvalidArgumentError(`${name}: percent must be a positive number, got ${JSON.stringify(percent)}`);
    }
    let rec;
    const recorded = Boolean(this.view().recorded);
    if (elementId) {
      rec = this.simElement(elementId);
      // on a recorded screen the gesture lands at the element's centre (recorded.js finds what scrolls there)
      if (recorded && rec.recordedNode) return {dir, amount, point: centre(rec.bounds)};
      while (rec && !rec.scrollable) rec = rec.parent;
    } else {
      const box = [left, top, width, height].map(Number);
      if (box.some((v) => !Number.isFinite(v))) {
        throw new errors.InvalidArgumentError(`${name} needs elementId or left, top, width and height`);
      }
      const point = [Math.floor(box[0] + box[2] / 2), Math.floor(box[1] + box[3] / 2)];
      if (recorded) return {dir, amount, point};
      rec = this.hitAt(point[0], point[1], (r) => r.scrollable);
    }
    return {rec, dir, amount};
  },

  // --- keys and navigation --------------------------------------------------
  async back() {
    this.device.back();
  },

  async pressKeyCode(keycode) {
    const code = Number(keycode);
    if (!Number.isInteger(code)) throw new errors.InvalidArgumentError(`keycode must be an integer, got ${keycode}`);
    if (code === KEY.HOME) return this.device.home();
    if (code === KEY.BACK) return this.device.back();
    const app = this.device.fgApp;
    const visit = app && app.visit;
    if (!visit || visit.focused === null) return;
    const rec = this.view().records.find((r) => r.key === visit.focused);
    if (!rec) return;
    const chr = keyChar(code);
    if (rec.recordedNode) {
      const text = code === KEY.DEL ? rec.text.slice(0, -1) : chr === null ? null : rec.text + chr;
      if (text !== null) this.device.recordedType(rec.key, text, null, false);
      return;
    }
    if (code === KEY.DEL) this.device.type(rec, rec.text.slice(0, -1));
    else if (chr !== null) this.device.type(rec, rec.text + chr);
  },

  async longPressKeyCode(keycode) {
    return await this.pressKeyCode(keycode);
  },

  async mobilePressKey(keycode) {
    return await this.pressKeyCode(keycode);
  },

  /** `POST /appium/device/hide_keyboard` and `mobile: hideKeyboard`: whether a keyboard was hidden (focus stays). */
  async hideKeyboard() {
    return this.device.hideKeyboard();
  },

  /** `GET /appium/device/is_keyboard_shown` and `mobile: isKeyboardShown`. */
  async isKeyboardShown() {
    return this.device.keyboardShown();
  },

  // --- apps -----------------------------------------------------------------
  async activateApp(appId) {
    simCall(() => this.device.activate(appId));
  },

  async terminateApp(appId) {
    return this.device.terminate(appId);
  },

  async queryAppState(appId) {
    return this.device.appState(appId);
  },

  async isAppInstalled(appId) {
    return this.device.isInstalled(appId);
  },

  async installApp(appPath) {
    simCall(() => this.device.install(loadModel(appPath)));
  },

  async removeApp(appId) {
    return this.device.remove(appId);
  },

  async mobileBackgroundApp(seconds) {
    const pkg = this.device.fg;
    this.device.home();
    const s = Number(seconds ?? -1);
    if (pkg && s >= 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(s, 60) * 1000));
      if (this.device.appState(pkg) === APP_STATE.BACKGROUND) this.device.activate(pkg);
    }
  },

  async getCurrentActivity() {
    return this.device.currentActivity();
  },

  async getCurrentPackage() {
    return this.device.currentPackage();
  },

  // --- screen -----------------------------------------------------------------
  async getWindowRect() {
    const {width, height} = this.view();
    return {x: 0, y: 0, width, height};
  },

  async getWindowSize() {
    const {width, height} = this.view();
    return {width, height};
  },

  async getOrientation() {
    return 'PORTRAIT';
  },

  async getScreenshot() {
    const view = this.view();
    const shot = view.recorded && view.recorded.screenshot;
    const png = shot ? screenshotPng(shot) : null; // a recorded screenshot as recorded; else one drawn
    if (png) return png.toString('base64');
    const system = !this.device.fg || Boolean(this.device.dialog) || Boolean(this.device.permissionDialog());
    return renderPng(view, system).toString('base64');
  },

  async getWindowHandle() {
    return 'NATIVE_APP';
  },

  async getContexts() {
    return ['NATIVE_APP'];
  },

  async getCurrentContext() {
    return 'NATIVE_APP';
  },

  async execute(script, args) {
    const name = String(script).trim().replace(/^mobile:\s*/, 'mobile: ');
    if (!name.startsWith('mobile: ')) {
      throw new errors.NotImplementedError(`Only 'mobile:' execute methods are supported, got '${script}'`);
    }
    return await this.executeMethod(name, Array.isArray(args) ? args : [args ?? {}]);
  },

};
