'use strict';
// Runtime permissions (APP_MODEL.md, "Runtime permissions"): what a model declares and requests, what
// the app was granted, and Android 11's permission controller dialog (ids and wording as a real device
// shows them). `permissionMethods` are mixed into Device (device.js); this module requires neither it nor
// view.js, so no require circle.
const {node} = require('./node');
const {fail, str} = require('./validation');

const PERMISSION_PACKAGE = 'com.android.permissioncontroller';
const PERMISSION_ACTIVITY = 'com.android.permissioncontroller.permission.ui.GrantPermissionsActivity';
const DONT_ASK_AFTER = 2; // Android 11: a permission denied twice is denied from then on, without a dialog
const P = 'android.permission.';

// What the dialog asks ("Allow <label> to ...?"), per permission group; camera, microphone and location
// offer "while using the app" / "only this time" instead of "allow".
const GROUPS = [
  {message: 'take pictures and record video', foreground: true, perms: ['CAMERA']},
  {message: 'record audio', foreground: true, perms: ['RECORD_AUDIO']},
  {message: "access this device's location", foreground: true,
    perms: ['ACCESS_FINE_LOCATION', 'ACCESS_COARSE_LOCATION', 'ACCESS_BACKGROUND_LOCATION']},
  {message: 'access your contacts', perms: ['READ_CONTACTS', 'WRITE_CONTACTS', 'GET_ACCOUNTS']},
  {message: 'access your calendar', perms: ['READ_CALENDAR', 'WRITE_CALENDAR']},
  {message: 'access photos, media, and files on your device', perms: ['READ_EXTERNAL_STORAGE', 'WRITE_EXTERNAL_STORAGE']},
  {message: 'make and manage phone calls',
    perms: ['READ_PHONE_STATE', 'READ_PHONE_NUMBERS', 'CALL_PHONE', 'ANSWER_PHONE_CALLS', 'ADD_VOICEMAIL', 'USE_SIP']},
  {message: 'access your phone call logs', perms: ['READ_CALL_LOG', 'WRITE_CALL_LOG', 'PROCESS_OUTGOING_CALLS']},
  {message: 'send and view SMS messages', perms: ['SEND_SMS', 'RECEIVE_SMS', 'READ_SMS', 'RECEIVE_WAP_PUSH', 'RECEIVE_MMS']},
  {message: 'access sensor data about your vital signs', perms: ['BODY_SENSORS']},
  {message: 'access your physical activity', perms: ['ACTIVITY_RECOGNITION']},
];
const BY_PERMISSION = new Map(GROUPS.flatMap((g) => g.perms.map((p) => [P + p, g])));
const QUALIFIED = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/;

/** {message, foreground} of the dialog for a permission (an unknown one: "use <its last part>"). */
function describe(perm) {
  return BY_PERMISSION.get(perm) ?? {message: `use ${perm.split('.').pop()}`, foreground: false};
}

/** The model's `permissions`: qualified names (android.permission.CAMERA), each once. */
function parsePermissions(raw, where) {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fail(where, 'must be a list of permission names like "android.permission.CAMERA"');
  const out = [];
  raw.forEach((p, i) => {
    const name = str(p, `${where}[${i}]`, {allowNumber: false});
    if (!QUALIFIED.test(name)) fail(`${where}[${i}]`, `"${name}" is not a permission name like android.permission.CAMERA`);
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

/** A rule's `request`: a non-empty list of permissions the app declares. */
function parseRequest(raw, where, declared) {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || !list.length) fail(where, 'must be a non-empty list of permission names');
  return list.map((p, i) => {
    const name = str(p, `${where}[${i}]`, {allowNumber: false});
    if (!declared.includes(name)) {
      fail(`${where}[${i}]`, `permission "${name}" is not declared in the model's permissions ` +
        `(permissions: ${declared.length ? declared.join(', ') : 'none'})`);
    }
    return name;
  });
}

/** What an app was granted (kept across its processes; "only this time" until the process ends) and denied. */
class PermissionState {
  constructor() {
    this.grants = new Map(); // permission -> "always" | "once"
    this.denials = new Map(); // permission -> times denied
  }

  isGranted(perm) {
    return this.grants.has(perm);
  }

  /** Not granted and not denied for good ("don't ask again"): the dialog shows. */
  shouldAsk(perm) {
    return !this.isGranted(perm) && (this.denials.get(perm) ?? 0) < DONT_ASK_AFTER;
  }

  grant(perm, once = false) {
    this.grants.set(perm, once ? 'once' : 'always');
  }

  grantAll(perms) {
    for (const p of perms) this.grant(p);
  }

  deny(perm) {
    this.denials.set(perm, (this.denials.get(perm) ?? 0) + 1);
  }

  /** The process ended: "only this time" grants go. */
  processEnded() {
    for (const [p, how] of this.grants) if (how === 'once') this.grants.delete(p);
  }
}

/** Device methods (`this` is the Device). */
const permissionMethods = {
  /** A `request` rule fires: the dialog for each permission still to ask, in order; then `granted` or `denied`. */
  request(app, rule, handler) {
    const ask = rule.request.filter((p) => app.perms.shouldAsk(p));
    if (!ask.length) return this.requestAnswered(app, rule, handler);
    this.keyboard = null;
    this.toast = null;
    app.request = {queue: ask, rule, handler, serial: ++this.serial};
    this.changed();
  },

  requestAnswered(app, rule, handler) {
    const granted = rule.request.every((p) => app.perms.isGranted(p));
    const next = (granted ? rule.granted : rule.denied).find((r) => this.fires(app, app.visit, r));
    if (next) this.apply(app, app.visit, next, handler);
  },

  /** The app whose permission dialog is on screen, or null. */
  permissionDialog() {
    if (this.dialog) return null;
    const app = this.fgApp;
    return app && app.request ? app : null;
  },

  /** A button of the dialog (or back: "deny"): "allow", "foreground", "once" or "deny". */
  answerPermission(answer) {
    const app = this.permissionDialog();
    if (!app || this.inputBlocked()) return;
    const req = app.request;
    const perm = req.queue.shift();
    if (answer === 'deny') app.perms.deny(perm);
    else app.perms.grant(perm, answer === 'once');
    req.serial = ++this.serial; // the next dialog is a new window: new handles
    this.changed();
    if (req.queue.length) return;
    app.request = null;
    this.requestAnswered(app, req.rule, req.handler);
  },
};

// Android 11's grant dialog (grant_permissions.xml) on a 1080x2400 display: icon and message, then a
// column of full-width text buttons, centred.
const DIALOG = {x1: 66, x2: 1014, head: 388, button: 137, bottom: 42, width: 1080, height: 2400};
const BUTTONS = {
  foreground: [['permission_allow_foreground_only_button', 'WHILE USING THE APP', 'foreground'],
    ['permission_allow_one_time_button', 'ONLY THIS TIME', 'once'], ['permission_deny_button', 'DENY', 'deny']],
  other: [['permission_allow_button', 'ALLOW', 'allow'], ['permission_deny_button', 'DENY', 'deny']],
};

/** The permission controller's window as UiAutomator2 dumps it while it has the focus. */
function permissionRoots(app) {
  const {queue, serial} = app.request;
  const {message, foreground} = describe(queue[0]);
  const prefix = `p${serial}`;
  const rid = (id) => `${PERMISSION_PACKAGE}:id/${id}`;
  const pc = (props) => node({pkg: PERMISSION_PACKAGE, system: true, ...props});
  const buttons = BUTTONS[foreground ? 'foreground' : 'other'];
  const D = DIALOG;
  const height = D.head + buttons.length * D.button + D.bottom;
  const top = Math.round((D.height - height) / 2);
  const box = [D.x1, top, D.x2, top + height];
  const icon = pc({handle: `${prefix}.i`, className: 'android.widget.ImageView', resourceId: rid('permission_icon'),
    bounds: [507, top + 63, 573, top + 129]});
  const text = pc({handle: `${prefix}.m`, className: 'android.widget.TextView', resourceId: rid('permission_message'),
    text: `Allow ${app.model.label} to ${message}?`, bounds: [D.x1 + 66, top + 171, D.x2 - 66, top + 325]});
  const head = pc({handle: `${prefix}.h`, className: 'android.widget.LinearLayout', resourceId: rid('perm_desc_root'),
    bounds: [D.x1, top, D.x2, top + D.head], children: [icon, text]});
  const y0 = top + D.head;
  const group = pc({
    handle: `${prefix}.g`, className: 'android.widget.LinearLayout', resourceId: rid('button_group'),
    bounds: [D.x1, y0, D.x2, y0 + buttons.length * D.button],
    children: buttons.map(([id, caption, action], k) => pc({
      handle: `${prefix}.b${k}`, className: 'android.widget.Button', resourceId: rid(id), text: caption,
      clickable: true, focusable: true, permissionAction: action,
      bounds: [D.x1 + 42, y0 + k * D.button, D.x2 - 42, y0 + (k + 1) * D.button],
    })),
  });
  const dialog = pc({handle: `${prefix}.d`, className: 'android.widget.LinearLayout', resourceId: rid('grant_dialog'),
    bounds: box, card: true, children: [head, group]});
  const full = [0, 0, D.width, D.height];
  const singleton = pc({handle: `${prefix}.s`, className: 'android.widget.LinearLayout', resourceId: rid('grant_singleton'),
    bounds: full, children: [dialog]});
  const content = pc({handle: `${prefix}.c1`, resourceId: 'android:id/content', bounds: full, children: [singleton]});
  return {pkg: PERMISSION_PACKAGE, roots: [pc({handle: `${prefix}.c0`, bounds: full, children: [content]})]};
}

module.exports = {
  PERMISSION_PACKAGE, PERMISSION_ACTIVITY, PermissionState, permissionMethods, permissionRoots,
  parsePermissions, parseRequest, describe,
};
