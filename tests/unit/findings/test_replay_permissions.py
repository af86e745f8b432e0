"""Replays answer permission dialogs as the run did: the generated test.py (on a fake driver) and the
buttons reproduction prefers (DESIGN.md "Reproduction under time")."""

import pytest

from domain.findings.generated_test import finding_test_script
from domain.findings.reproduction import permission_buttons
from tests.unit.findings.test_generated_test import RUN, FakeClock, FakeDriver, FakeElement, finding, load

CONTROLLER = "com.android.permissioncontroller"
ALLOW = f"{CONTROLLER}:id/permission_allow_foreground_only_button"
DENY = f"{CONTROLLER}:id/permission_deny_button"


class AskingDriver(FakeDriver):
    """The app never breaks; the login tap brings up the camera dialog, which hides the app until answered."""

    def __init__(self, clock):
        super().__init__(clock, breaking=())
        self.asking, self.answers = False, []

    def act(self, *call):
        if self.asking and call[0] == "click" and call[1] in (ALLOW, DENY):
            self.asking = False
            self.answers.append(call[1])
            return
        super().act(*call)
        if call == ("click", "org.x:id/login"):
            self.asking = True

    def find_elements(self, by, value):
        if self.asking:
            return [FakeElement(self, value)] if value in (ALLOW, DENY) else []
        return super().find_elements(by, value)

    @property
    def current_package(self):
        return CONTROLLER if self.asking else super().current_package

    def back(self):
        if not self.asking:
            return super().back()
        self.asking = False
        self.answers.append("back")


@pytest.fixture
def clock():
    return FakeClock()


@pytest.mark.parametrize("permissions, answer", [("grant", ALLOW), ("deny", DENY), (None, ALLOW)])
def test_the_generated_test_answers_a_permission_dialog_as_the_run_did_and_replays_on(tmp_path, clock, permissions,
                                                                                      answer):
    run = {**RUN, "permissions": permissions} if permissions else RUN
    module = load(tmp_path, finding_test_script(finding(), run))
    module.time = clock
    driver = AskingDriver(clock)

    module.reproduce(driver, {"password": "x"})  # every step replayed: no dialog left in the way

    assert driver.answers == [answer]
    assert ("click", "org.x:id/sync") in driver.calls


def test_reproduction_prefers_while_using_the_app_then_allow_and_names_both_controller_packages():
    grant = permission_buttons("grant")
    assert grant[:2] == [f"{CONTROLLER}:id/permission_allow_foreground_only_button",
                         "com.google.android.permissioncontroller:id/permission_allow_foreground_only_button"]
    assert grant[2].endswith(":id/permission_allow_button") and not any("deny" in name for name in grant)
    assert permission_buttons("deny") == [DENY, "com.google.android.permissioncontroller:id/permission_deny_button"]
