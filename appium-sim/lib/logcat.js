'use strict';
// A session's logcat: what a device's log buffer would hold for what happened on
// it, read through Appium's log command (type "logcat") as the UiAutomator2 driver
// serves it: entries {timestamp, level: "ALL", message: "<threadtime line>"}, each
// read handing back what came since the last one. Crashes and ANRs print the
// blocks Android prints; launches and screen changes print ordinary lines that a
// reader has to filter out, as on a device.

const MAX_ENTRIES = 5000; // a device's ring buffer drops the oldest lines too
const SYSTEM_PID = 583; // system_server
const AM_TID = 1021; // the ActivityManager thread's
const ANR_TID = 611; // the thread that reports ANRs

// What sits under an app's click handler on the main thread (Android 11), innermost first.
const CLICK_FRAMES = [
  'android.view.View.performClick(View.java:7448)',
  'android.view.View.performClickInternal(View.java:7425)',
  'android.view.View.access$3600(View.java:810)',
  'android.view.View$PerformClick.run(View.java:28305)',
];
const LONG_CLICK_FRAMES = [
  'android.view.View.performLongClickInternal(View.java:7574)',
  'android.view.View.performLongClick(View.java:7532)',
  'android.view.View$CheckForLongPress.run(View.java:28597)',
];
const LOOPER_FRAMES = [
  'android.os.Handler.handleCallback(Handler.java:938)',
  'android.os.Handler.dispatchMessage(Handler.java:99)',
  'android.os.Looper.loop(Looper.java:223)',
  'android.app.ActivityThread.main(ActivityThread.java:7656)',
  'java.lang.reflect.Method.invoke(Native Method)',
  'com.android.internal.os.RuntimeInit$MethodAndArgsCaller.run(RuntimeInit.java:592)',
  'com.android.internal.os.ZygoteInit.main(ZygoteInit.java:947)',
];

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "12-02 10:00:00.123": the device's clock, in UTC. */
function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:`
    + `${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** One line as `logcat -v threadtime` prints it. */
function threadtime(ms, pid, tid, level, tag, message) {
  return `${clock(ms)} ${String(pid).padStart(5)} ${String(tid).padStart(5)} ${level} ${tag.padEnd(8)}: ${message}`;
}

/** "com.example.notes/.HomeActivity": how ActivityManager names a component of the package. */
function component(pkg, activity) {
  const full = activity.startsWith('.') ? pkg + activity : activity;
  return full.startsWith(`${pkg}.`) ? `${pkg}/${full.slice(pkg.length)}` : `${pkg}/${full}`;
}

/** ART tags its lines with the process name's last 15 characters. */
const artTag = (pkg) => pkg.slice(-15);

class Logcat {
  constructor(now = Date.now) {
    this.now = now;
    this.entries = [];
    this.last = 0;
  }

  /** Append a line (one per line of `message`, as logcat splits them); `at` defaults to now. */
  add(pid, tid, level, tag, message, at = this.now()) {
    const ms = Math.max(at, this.last); // a buffer is in order even when a line is written late
    this.last = ms;
    for (const text of String(message).split('\n')) {
      this.entries.push({timestamp: ms, level: 'ALL', message: threadtime(ms, pid, tid, level, tag, text)});
    }
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  /** What came since the last read. */
  read() {
    const out = this.entries;
    this.entries = [];
    return out;
  }

  system(level, tag, message, at) {
    this.add(SYSTEM_PID, AM_TID, level, tag, message, at);
  }

  // --- what the device prints --------------------------------------------------------

  /** `am start` of an activity (a launch, or the app opening one of its own). */
  started(proc, activity, fromUid) {
    const launcher = fromUid === 2000 ? 'act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] flg=0x10200000 ' : '';
    this.system('I', 'ActivityTaskManager', `START u0 {${launcher}cmp=${component(proc.pkg, activity)}} from uid ${fromUid}`);
  }

  processStarted(proc, activity) {
    const full = component(proc.pkg, activity).replace('/.', `/${proc.pkg}.`);
    this.system('I', 'ActivityManager', `Start proc ${proc.pid}:${proc.pkg}/${proc.user} for top-activity {${full}}`);
    this.add(proc.pid, proc.pid, 'I', artTag(proc.pkg), 'Using CollectorTypeCC GC.');
    this.add(proc.pid, proc.pid, 'W', artTag(proc.pkg), 'Accessing hidden method Landroid/view/View;->computeFitSystemWindows'
      + '(Landroid/graphics/Rect;Landroid/graphics/Rect;)Z (greylist, reflection, allowed)');
  }

  displayed(proc, activity, ms) {
    this.system('I', 'ActivityManager', `Displayed ${component(proc.pkg, activity)}: +${ms}ms`);
  }

  /** The FATAL EXCEPTION block of an uncaught exception on the main thread, and the process's end. */
  crashed(proc, activity, crash, handler) {
    const {pid, pkg} = proc;
    this.add(pid, pid, 'D', 'AndroidRuntime', 'Shutting down VM');
    const stack = [...crash.frames, ...(handler === 'onLongClick' ? LONG_CLICK_FRAMES : CLICK_FRAMES), ...LOOPER_FRAMES];
    const lines = [
      'FATAL EXCEPTION: main',
      `Process: ${pkg}, PID: ${pid}`,
      crash.message === null ? crash.exception : `${crash.exception}: ${crash.message}`,
      ...stack.map((f) => `\tat ${f}`),
    ];
    for (const line of lines) this.add(pid, pid, 'E', 'AndroidRuntime', line);
    this.system('W', 'ActivityTaskManager', `  Force finishing activity ${component(pkg, activity)}`);
    this.add(pid, pid, 'I', 'Process', `Sending signal. PID: ${pid} SIG: 9`);
    this.died(proc, 'fg  TOP ');
  }

  /** ActivityManager's report when the "isn't responding" dialog comes up (`at`: when the freeze ran out). */
  notResponding(proc, activity, at) {
    this.add(SYSTEM_PID, ANR_TID, 'E', 'ActivityManager', `ANR in ${proc.pkg} (${component(proc.pkg, activity)})`, at);
    this.add(SYSTEM_PID, ANR_TID, 'E', 'ActivityManager', `PID: ${proc.pid}`, at);
    this.add(SYSTEM_PID, ANR_TID, 'E', 'ActivityManager', 'Reason: Input dispatching timed out', at);
  }

  killed(proc, reason) {
    this.system('I', 'ActivityManager', `Killing ${proc.pid}:${proc.pkg}/${proc.user} (adj 0): ${reason}`);
    this.died(proc, 'cch CAC ');
  }

  forceStopped(proc) {
    this.system('I', 'ActivityManager', `Force stopping ${proc.pkg} appid=${proc.uid} user=0: from pid 9977`);
    this.killed(proc, `stop ${proc.pkg} due to from pid 9977`);
  }

  died(proc, state) {
    this.system('I', 'ActivityManager', `Process ${proc.pkg} (pid ${proc.pid}) has died: ${state}`);
  }
}

module.exports = {Logcat, threadtime, component, MAX_ENTRIES};
