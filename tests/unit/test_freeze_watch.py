"""Which actions that changed nothing the agent watches for a freeze (agent/findings_watch.py): the device and
the observer are stand-ins, the rule is the product's."""

from types import SimpleNamespace

from agent.findings_watch import FindingsWatch
from domain.exploration import Action, parse_screen
from domain.findings.journal import FindingsJournal
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

SOURCE = hierarchy(frame(node("android.widget.TextView", rid="label", text="Hello", bounds=row(100))))


class StillObserver:
    """The page source never changes; counts the watches."""

    def __init__(self) -> None:
        self.last_source, self.watches = SOURCE, 0

    def wait_change(self, source: str, seconds: float) -> None:
        self.watches += 1
        return None


def watch() -> tuple[FindingsWatch, StillObserver]:
    observer = StillObserver()
    context = SimpleNamespace(node=None, package=PKG, observer=observer, journal=FindingsJournal(),
                          device=SimpleNamespace(logcat=lambda: []))
    return FindingsWatch(context), observer


def test_a_declared_tap_that_changed_nothing_is_watched_once_and_starts_the_frozen_row():
    findings, observer = watch()
    screen = parse_screen(SOURCE, activity=".Main", package=PKG)
    tap = Action(kind="tap", target=("id", f"{PKG}:id/label"), label='tap "Hello"', action_id="tap:id/label")
    for step in (1, 2):
        findings.after_action(step, screen, SOURCE, tap, screen)
    assert observer.watches == 1
    assert findings.frozen is not None and findings.frozen[2] == 1


def test_a_tap_on_a_view_that_does_not_say_it_is_clickable_is_not_watched():
    findings, observer = watch()
    screen = parse_screen(SOURCE, activity=".Main", package=PKG)
    leaf = Action(kind="tap", target=("id", f"{PKG}:id/label"), label='tap "Hello"', action_id="tap:id/label",
                  declared=False)
    findings.after_action(1, screen, SOURCE, leaf, screen)
    assert observer.watches == 0 and findings.frozen is None
