"""Pure findings logic: what broke, recognised from what the agent saw (no device, no I/O).

After each step the worker hands over what it read::

    crashes = read_logcat([entry["message"] for entry in driver.get_log("logcat")], package)
    shown = system_dialog(screen_after)                  # "crash" | "anr" | None; DISMISS closes it
    sig = signature(kind, package, crashes[0] if crashes else None, before.activity, action.action_id)
    fid = finding_id(run_id, sig)                        # the same in every replay of the events
    title = crash_title(kind, label, crash, activity=before.activity, action_label=action.label)
    issues = accessibility_issues(new_screen, density, page_source=source, package=package)

- `read_logcat`: the app's FATAL EXCEPTION and ANR blocks (other processes' and
  ordinary lines ignored; the level field is never read: Appium reports "ALL").
- `system_dialog`: Android's "keeps stopping" / "isn't responding" dialogs.
- `signature`: DESIGN.md's rule (see signature.py; frames without line numbers).
- `accessibility_issues`: the four ATF rules on the app's own screens, each issue
  naming its element by the action id `enumerate_actions` gives it.
"""

from domain.findings.accessibility import RULES, AccessibilityIssue, accessibility_issues, element_ids
from domain.findings.dialogs import DISMISS, system_dialog
from domain.findings.logcat import LogcatCrash, app_frames, frame_method, read_logcat
from domain.findings.signature import accessibility_signature, crash_title, finding_id, signature

__all__ = [
    "DISMISS",
    "RULES",
    "AccessibilityIssue",
    "LogcatCrash",
    "accessibility_issues",
    "accessibility_signature",
    "app_frames",
    "crash_title",
    "element_ids",
    "finding_id",
    "frame_method",
    "read_logcat",
    "signature",
    "system_dialog",
]
