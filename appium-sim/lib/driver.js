'use strict';
// SimulatorDriver: an Appium 3 driver whose "device" runs simulated Android
// apps (JSON app models). Answers like the UiAutomator2 driver.
const {BaseDriver, DeviceSettings, errors} = require('appium/driver');
const {Device, SimError} = require('./device');
const {DEFAULT_DENSITY} = require('./layout');
const {loadModel, fullActivity, ModelError} = require('./model');
const {buildView, toXml} = require('./view');
const commands = require('./commands');
const {parseFaults, Faults, FaultError, DEFAULT_SETTINGS, checkSetting} = require('./faults');

const NEW_METHOD_MAP = {
  '/session/:sessionId/appium/device/press_keycode': {
    POST: {command: 'pressKeyCode', payloadParams: {required: ['keycode'], optional: ['metastate', 'flags']}},
  },
  '/session/:sessionId/appium/device/long_press_keycode': {
    POST: {command: 'longPressKeyCode', payloadParams: {required: ['keycode'], optional: ['metastate', 'flags']}},
  },
  '/session/:sessionId/appium/device/current_activity': {GET: {command: 'getCurrentActivity'}},
  '/session/:sessionId/appium/device/current_package': {GET: {command: 'getCurrentPackage'}},
  '/session/:sessionId/window/:windowhandle/size': {GET: {command: 'getWindowSize'}},
};

const EXECUTE_METHOD_MAP = {
  'mobile: pressKey': {command: 'mobilePressKey', params: {required: ['keycode'], optional: ['metastate', 'flags', 'isLongPress']}},
  'mobile: activateApp': {command: 'activateApp', params: {required: ['appId']}},
  'mobile: terminateApp': {command: 'terminateApp', params: {required: ['appId'], optional: ['timeout']}},
  'mobile: queryAppState': {command: 'queryAppState', params: {required: ['appId']}},
  'mobile: isAppInstalled': {command: 'isAppInstalled', params: {required: ['appId'], optional: ['user']}},
  'mobile: installApp': {command: 'installApp', params: {required: ['appPath'], optional: ['checkVersion', 'timeout', 'replace']}},
  'mobile: removeApp': {command: 'removeApp', params: {required: ['appId'], optional: ['timeout', 'keepData']}},
  'mobile: backgroundApp': {command: 'mobileBackgroundApp', params: {optional: ['seconds']}},
  'mobile: getCurrentActivity': {command: 'getCurrentActivity'},
  'mobile: getCurrentPackage': {command: 'getCurrentPackage'},
  'mobile: clickGesture': {command: 'mobileClickGesture', params: {optional: ['elementId', 'x', 'y']}},
  'mobile: longClickGesture': {command: 'mobileLongClickGesture', params: {optional: ['elementId', 'x', 'y', 'duration']}},
  'mobile: scrollGesture': {
    command: 'mobileScrollGesture',
    params: {optional: ['elementId', 'left', 'top', 'width', 'height', 'direction', 'percent', 'speed']},
  },
  'mobile: swipeGesture': {
    command: 'mobileSwipeGesture',
    params: {optional: ['elementId', 'left', 'top', 'width', 'height', 'direction', 'percent', 'speed']},
  },
  'mobile: hideKeyboard': {command: 'hideKeyboard'},
  'mobile: isKeyboardShown': {command: 'isKeyboardShown'},
};

const desiredCapConstraints = {
  app: {isString: true},
  appPackage: {isString: true},
  appActivity: {isString: true},
  simInstalled: {isBoolean: true},
  autoLaunch: {isBoolean: true},
  simSeed: {}, // a number or a string: seeds the draws of crash rules' `probability`
  simDensity: {isNumber: true},
  // false: the log command refuses logcat, as a UiAutomator2 server started without the adb_shell
  // feature does on a device farm; agents must cope without stack traces.
  simLogcat: {isBoolean: true},
  autoGrantPermissions: {isBoolean: true}, // as UiAutomator2: every permission the app declares, granted at install
  simFaults: {}, // {serverCrashAfter, slowSource: {every, ms}, hangAfter}: faults of the device (faults.js)
};

// Appium's log command (`driver.get_log("logcat")`), as the UiAutomator2 driver names the type.
const LOG_TYPES = {
  logcat: {
    description: 'Logs for Android applications on real device and emulators via ADB',
    getter: (driver) => {
      if (driver.caps.simLogcat === false) {
        throw new errors.InvalidArgumentError(
          "Potentially insecure feature 'adb_shell' has not been enabled. " +
          "If you want to enable it, start the Appium server with --allow-insecure=adb_shell");
      }
      return driver.device ? driver.device.logcat.read() : [];
    },
  },
};

class SimulatorDriver extends BaseDriver {
  static newMethodMap = NEW_METHOD_MAP;
  static executeMethodMap = EXECUTE_METHOD_MAP;

  constructor(opts = {}, shouldValidateCaps = true) {
    super(opts, shouldValidateCaps);
    this.desiredCapConstraints = desiredCapConstraints;
    this.locatorStrategies = ['id', 'accessibility id', 'class name', 'xpath', 'tag name'];
    this.device = null;
    this._view = null;
    this.supportedLogTypes = LOG_TYPES;
    this.faults = null;
    // UiAutomator2's settings (GET/POST /session/:id/appium/settings); waitForIdleTimeout caps slow page sources
    this.settings = new DeviceSettings(DEFAULT_SETTINGS, checkSetting);
  }

  /**
   * Every command of the session meets its faults first (a crashed server answers 500, a hung one never);
   * then the device's clock moves on (an app hung long enough gets its ANR dialog, a screen shown long enough
   * applies its `after`), and after it the device notes what is on screen (when a screen's wait began).
   */
  async executeCommand(cmd, ...args) {
    if (this.faults && cmd !== 'deleteSession' && cmd !== 'createSession') await this.faults.before();
    if (this.device) this.device.tick();
    try {
      return await super.executeCommand(cmd, ...args);
    } finally {
      if (this.device) this.device.observeScreen();
    }
  }

  async createSession(w3c1, w3c2, w3c3, driverData) {
    const [sessionId, caps] = await super.createSession(w3c1, w3c2, w3c3, driverData);
    try {
      this.startDevice(caps);
    } catch (e) {
      await super.deleteSession(sessionId).catch(() => {});
      if (e instanceof ModelError || e instanceof SimError || e instanceof FaultError) throw new errors.SessionNotCreatedError(e.message);
      throw e;
    }
    // What UiAutomator2 reports of the device, so sizes in dp can be computed from bounds in px.
    const {width, height} = this.device.display;
    const device = {deviceScreenDensity: this.device.density, deviceScreenSize: `${width}x${height}`};
    Object.assign(this.caps, device);
    return [sessionId, {...caps, ...device}];
  }

  /** Install the model's app (unless simInstalled: false) and launch it (unless autoLaunch: false). */
  startDevice(caps) {
    const density = caps.simDensity ?? DEFAULT_DENSITY;
    if (!Number.isInteger(density) || density < 80 || density > 800) {
      throw new SimError(`appium:simDensity must be a whole number of dpi from 80 to 800, got ${JSON.stringify(caps.simDensity)}`);
    }
    const faults = parseFaults(caps.simFaults);
    const model = loadModel(caps.app);
    if (caps.appPackage && caps.appPackage !== model.package) {
      throw new SimError(`appPackage '${caps.appPackage}' does not match the package '${model.package}' of the app model ${model.path}`);
    }
    if (caps.appActivity) {
      const wanted = fullActivity(model.package, caps.appActivity);
      const known = Object.values(model.screens).map((s) => s.activity);
      if (!known.some((a) => fullActivity(model.package, a) === wanted)) {
        throw new SimError(`Cannot start activity '${caps.appActivity}' of ${model.package}: the app has no such activity (activities: ${[...new Set(known)].join(', ')})`);
      }
    }
    this.model = model;
    this.device = new Device({seed: caps.simSeed ?? 0, density, display: model.display, autoGrant: caps.autoGrantPermissions === true});
    this.faults = new Faults(faults);
    if (caps.simInstalled === false) return;
    this.device.install(model);
    if (caps.autoLaunch === false) return;
    if (caps.appActivity) this.device.launchActivity(model.package, caps.appActivity);
    else this.device.activate(model.package);
    this.device.observeScreen(); // the first screen's wait begins
  }

  async deleteSession(sessionId) {
    if (this.faults) this.faults.end(); // a hung command or a slow read ends with the session
    this.faults = null;
    this.device = null;
    this._view = null;
    return await super.deleteSession(sessionId);
  }

  /** The current view, rebuilt only when the device changed. */
  view() {
    if (!this._view || this._view.version !== this.device.version) this._view = buildView(this.device);
    return this._view;
  }

  xml() {
    const v = this.view();
    if (v.xml === undefined) v.xml = toXml(v);
    return v.xml;
  }

  /** What xpath finds read: the page source, or for a recorded screen the strict-XML form of it. */
  findXml() {
    const v = this.view();
    if (!v.recorded) return this.xml();
    if (v.cleanXml === undefined) v.cleanXml = toXml(v, {clean: true});
    return v.cleanXml;
  }
}

Object.assign(SimulatorDriver.prototype, commands);

module.exports = {SimulatorDriver, default: SimulatorDriver};
