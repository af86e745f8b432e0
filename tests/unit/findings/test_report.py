from junitparser import Failure, JUnitXml

from domain.findings.report import RULES, junit_report

RUN = {"runId": "01RUN", "app": {"packageName": "org.fieldnotes"}, "status": "completed", "stopReason": "max_steps",
       "metrics": {"steps": 40, "screensDiscovered": 7, "transitions": 12, "durationMs": 61500}}
CRASH = {"findingId": "f-crash", "kind": "crash", "title": "Field Notes crashed: IllegalStateException",
         "signature": "crash|java.lang.IllegalStateException|org.fieldnotes.sync.SyncClient.push",
         "firstStep": 9, "occurrences": 3, "screenId": "s-home", "activity": ".HomeActivity",
         "details": {"exception": "java.lang.IllegalStateException", "message": "token is null",
                     "frames": ["org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)",
                                "android.view.View.performClick(View.java:7448)"]},
         "reproduction": {"steps": [{"actionId": "tap:id/login", "label": 'tap "Log in"', "fromScreen": "s-launch",
                                     "toScreen": "s-home"},
                                    {"actionId": "tap:id/sync", "label": 'tap "Sync now"', "fromScreen": "s-home",
                                     "toScreen": None}],
                          "attempts": 2, "reproduced": 1}}
ANR = {"findingId": "f-anr", "kind": "anr", "title": "Field Notes isn't responding in .ExportActivity",
       "signature": "anr|.ExportActivity", "details": {"exception": None, "message": "Input dispatching timed out",
                                                        "frames": [], "freezeSeconds": 6},
       "reproduction": {"steps": [], "attempts": 0, "reproduced": 0}}


def small_target(action_id, label):
    return {"findingId": f"f-{action_id}", "kind": "accessibility", "title": f"Touch target too small: {label}",
            "signature": f"accessibility|TouchTargetSizeCheck|s-home|{action_id}", "screenId": "s-home",
            "activity": ".HomeActivity",
            "details": {"rule": "TouchTargetSizeCheck", "actionId": action_id, "label": label,
                        "bounds": [0, 0, 60, 60], "detail": "23x23 dp, at least 48x48 dp"}}


def parsed(findings, run=RUN):
    suites = list(JUnitXml.fromstring(junit_report(run, findings).encode()))  # bytes: as a CI reader reads the file
    assert len(suites) == 1
    return suites[0]


def cases(suite):
    return {case.name: case for case in suite}


def failure_of(case):
    [failure] = [result for result in case.result if isinstance(result, Failure)]
    return failure


def test_one_suite_named_after_the_app_and_run():
    suite = parsed([])
    assert "org.fieldnotes" in suite.name and "01RUN" in suite.name


def test_a_run_without_findings_passes_the_four_rules_and_exploration():
    suite = parsed([])
    assert list(cases(suite)) == [*RULES, "exploration"]
    assert all(case.is_passed for case in suite) and suite.failures == 0 and suite.tests == 5


def test_each_crash_and_anr_is_a_failing_case_with_its_stack_and_reproduction():
    suite = parsed([CRASH, ANR])
    by_name = cases(suite)
    crash = failure_of(by_name[CRASH["title"]])
    assert crash.message == "java.lang.IllegalStateException: token is null"
    assert "org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)" in crash.text
    assert 'tap "Sync now"' in crash.text and "reproduced 1 of 2 attempts" in crash.text
    anr = failure_of(by_name[ANR["title"]])
    assert anr.message == "Input dispatching timed out"
    assert suite.failures == 2 and suite.tests == 7


def test_accessibility_findings_fail_their_rule_with_their_elements():
    suite = parsed([small_target("tap:id/x", "Close"), small_target("tap:ImageButton", "Share \"it\" <now>"),
                    {**small_target("tap:id/y", "Name"), "details": {"label": "Name"},
                     "signature": "accessibility|EditableContentDescCheck|s-home|type:id/name"}])
    by_name = cases(suite)
    assert [name for name in by_name if name in RULES] == list(RULES)
    target = failure_of(by_name["TouchTargetSizeCheck"])
    assert "2" in target.message
    assert "Close" in target.text and 'Share "it" <now>' in target.text and "tap:ImageButton" in target.text
    assert "Name" in failure_of(by_name["EditableContentDescCheck"]).text  # the rule named by the signature
    assert by_name["SpeakableTextPresentCheck"].is_passed and by_name["DuplicateClickableBoundsCheck"].is_passed
    assert suite.failures == 2


def test_exploration_passes_with_the_runs_metrics():
    suite = parsed([CRASH])
    exploration = cases(suite)["exploration"]
    assert exploration.is_passed and exploration.time == 61.5
    assert "screensDiscovered: 7" in exploration.system_out and "stopReason: max_steps" in exploration.system_out
    properties = {prop.name: prop.value for prop in suite.properties()}
    assert properties["metrics.steps"] == "40" and properties["metrics.transitions"] == "12"
    assert properties["runId"] == "01RUN"


def test_text_xml_cannot_hold_is_replaced_so_the_report_still_parses():
    nasty = {**CRASH, "title": "bad \x00\x1b title", "details": {**CRASH["details"], "message": "a\x07b"}}
    by_name = cases(parsed([nasty]))
    assert "bad \ufffd\ufffd title" in by_name
    assert failure_of(by_name["bad \ufffd\ufffd title"]).message.endswith("a\ufffdb")
