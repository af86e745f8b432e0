"""The four accessibility rules on screens built from page source, as a device returns it."""

import pytest

from domain.exploration import enumerate_actions, parse_screen
from domain.findings import RULES, AccessibilityIssue, accessibility_issues, element_ids
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node

BUTTON, IMAGE = "android.widget.Button", "android.widget.ImageButton"
LAYOUT, TEXT, EDIT = "android.widget.LinearLayout", "android.widget.TextView", "android.widget.EditText"


def big(y: int, x: int = 0) -> tuple[int, int, int, int]:
    """A 150 px (57 dp at 420 dpi) tall target: large enough."""
    return (x, y, x + 300, y + 150)


def issues(source: str, density: int = 420, package: str = PKG, screen_package: str = PKG) -> list[AccessibilityIssue]:
    screen = parse_screen(source, activity=".Main", package=screen_package)
    return accessibility_issues(screen, density, page_source=source, package=package)


def of(found: list[AccessibilityIssue], rule: str) -> list[str]:
    return [issue.action_id for issue in found if issue.rule == rule]


def page(*views: str) -> str:
    return hierarchy(frame(*views))


def test_a_well_made_screen_has_no_issues():
    source = page(
        node(BUTTON, rid="sync", text="Sync now", bounds=big(300), clickable=True),
        node(IMAGE, rid="share", desc="Share", bounds=big(500), clickable=True),
        node(EDIT, rid="email", hint="Email", bounds=(0, 700, 1080, 850), clickable=True),
        node(LAYOUT, rid="row", bounds=(0, 900, 1080, 1100), clickable=True, children=(
            node(TEXT, rid="title", text="Groceries", bounds=(0, 900, 700, 1000)),)),
    )
    assert issues(source) == []


def test_speakable_text_flags_an_unlabelled_clickable_view():
    source = page(node(IMAGE, rid="sync", bounds=big(300), clickable=True),
                  node(IMAGE, rid="share", desc="Share", bounds=big(500), clickable=True))
    (issue,) = issues(source)
    assert issue.rule == "SpeakableTextPresentCheck"
    assert (issue.action_id, issue.label, issue.bounds) == ("tap:id/sync", "sync", big(300))
    assert "no text" in issue.detail


def test_speakable_text_counts_a_labelled_descendant_but_not_a_hidden_one():
    labelled = node(LAYOUT, rid="row", bounds=(0, 300, 1080, 500), clickable=True, children=(
        node(LAYOUT, bounds=(0, 300, 1080, 500), children=(node(TEXT, text="Groceries", bounds=(0, 300, 700, 400)),)),))
    assert of(issues(page(labelled)), "SpeakableTextPresentCheck") == []
    hidden = page(node(LAYOUT, rid="row", bounds=(0, 300, 1080, 500), clickable=True, children=(
        node(TEXT, text="Groceries", bounds=(0, 300, 700, 400), displayed=False),)))
    assert of(issues(hidden), "SpeakableTextPresentCheck") == ["tap:id/row"]


def test_speakable_text_reads_the_tree_not_the_bounds():
    # A label drawn over the button but beside it in the tree does not name it.
    source = page(node(IMAGE, rid="fab", bounds=(700, 1800, 1000, 2100), clickable=True),
                  node(TEXT, text="New note", bounds=(750, 1900, 950, 2000)))
    assert of(issues(source), "SpeakableTextPresentCheck") == ["tap:id/fab"]


def test_speakable_text_covers_long_clickable_views():
    source = page(node(LAYOUT, rid="card", bounds=big(300), long_clickable=True))
    assert of(issues(source), "SpeakableTextPresentCheck") == ["long_press:id/card"]


@pytest.mark.parametrize("density, px, flagged", [
    (160, 47, True), (160, 48, False),   # 1 px = 1 dp
    (420, 125, True), (420, 126, False),  # 47.6 dp and exactly 48 dp
    (640, 191, True), (640, 192, False),
])
def test_touch_target_size_from_the_density(density, px, flagged):
    wide = page(node(BUTTON, rid="ok", text="OK", bounds=(100, 300, 100 + 600, 300 + px), clickable=True))
    tall = page(node(BUTTON, rid="ok", text="OK", bounds=(100, 300, 100 + px, 300 + 600), clickable=True))
    for source in (wide, tall):  # smaller in either dimension
        assert of(issues(source, density), "TouchTargetSizeCheck") == (["tap:id/ok"] if flagged else [])


def test_touch_target_detail_gives_the_size_in_dp():
    (issue,) = issues(page(node(BUTTON, rid="ok", text="OK", bounds=(0, 300, 126, 400), clickable=True)))
    assert issue.detail == "48x38.1 dp, under 48x48 dp"


def test_touch_target_skips_the_cut_side_of_a_half_scrolled_row():
    def list_with(row: tuple[int, int, int, int]) -> str:
        item = node(BUTTON, rid="item", text="Note", bounds=row, clickable=True)
        return page(node("androidx.recyclerview.widget.RecyclerView", rid="notes", bounds=(0, 300, 1080, 1500),
                         scrollable=True, children=(item,)))
    assert of(issues(list_with((0, 300, 1080, 360))), "TouchTargetSizeCheck") == []  # cut at the top
    assert of(issues(list_with((0, 1440, 1080, 1500))), "TouchTargetSizeCheck") == []  # cut at the bottom
    assert of(issues(list_with((0, 700, 1080, 760))), "TouchTargetSizeCheck") == ["tap:id/item"]


def test_duplicate_clickable_bounds_one_issue_per_group():
    box = (0, 300, 1080, 500)
    source = page(
        node(LAYOUT, rid="row", bounds=box, clickable=True, children=(
            node(BUTTON, rid="open", text="Open", bounds=box, clickable=True),)),
        node(BUTTON, rid="other", text="Other", bounds=(0, 600, 1080, 800), clickable=True),
        node(TEXT, rid="note", text="Same bounds, not clickable", bounds=(0, 600, 1080, 800)),
    )
    found = [issue for issue in issues(source) if issue.rule == "DuplicateClickableBoundsCheck"]
    assert [issue.action_id for issue in found] == ["tap:id/row"]
    assert found[0].detail == "same bounds as tap:id/open"


def test_editable_content_desc():
    described = page(node(EDIT, rid="email", desc="Email", bounds=(0, 300, 1080, 450), clickable=True))
    hinted = page(node(EDIT, rid="email", hint="Email", bounds=(0, 300, 1080, 450), clickable=True))
    assert of(issues(described), "EditableContentDescCheck") == ["type:id/email"]
    assert of(issues(hinted), "EditableContentDescCheck") == []


def test_only_the_apps_own_screens_and_views_are_checked():
    bad = node(IMAGE, rid="sync", bounds=(0, 300, 40, 340), clickable=True)
    assert len(issues(page(bad))) == 2  # unlabelled and small
    assert issues(page(bad), screen_package="com.google.android.apps.nexuslauncher") == []
    keyboard = node(IMAGE, rid="key", bounds=(0, 2000, 40, 2040), clickable=True,
                    pkg="com.google.android.inputmethod.latin")
    assert issues(page(keyboard)) == []


def test_invisible_zero_size_and_hidden_subtrees_are_not_checked():
    source = page(
        node(IMAGE, rid="gone", bounds=(0, 300, 40, 340), clickable=True, displayed=False),
        node(IMAGE, rid="empty", bounds=(0, 0, 0, 0), clickable=True),
        node(IMAGE, rid="flat", bounds=(0, 400, 300, 400), clickable=True),
        node(LAYOUT, rid="drawer", bounds=(0, 500, 800, 2000), displayed=False, children=(
            node(IMAGE, rid="inside", bounds=(0, 500, 40, 540), clickable=True),)),
    )
    assert issues(source) == []


def test_issue_ids_are_the_action_ids_enumerate_actions_gives():
    stars = tuple(node(IMAGE, rid="star", bounds=big(300 + 160 * i, 700), clickable=True) for i in range(5))
    source = page(
        node(IMAGE, bounds=big(100), clickable=True),  # no id, no label: two of them, "~1" for the second
        node(LAYOUT, rid="stars", bounds=(700, 300, 1000, 1100), children=stars),
        node(IMAGE, bounds=big(100, 400), clickable=True),
        node(IMAGE, rid="locked", bounds=big(1200), clickable=True, enabled=False),
    )
    screen = parse_screen(source, activity=".Main", package=PKG)
    action_ids = {action.action_id for action in enumerate_actions(screen)}
    ids = of(issues(source), "SpeakableTextPresentCheck")
    assert ids == ["tap:ImageButton", "tap:ImageButton#star@0", "tap:ImageButton#star@1", "tap:ImageButton#star@2",
                   "element:ImageButton#star@3", "element:ImageButton#star@4", "tap:ImageButton~1",
                   "element:id/locked"]
    acting = [ids[i] for i in (0, 1, 2, 3, 6)]
    assert set(acting) <= action_ids  # the views the agent can act on are named as it names them
    assert not (set(ids) - set(acting)) & action_ids  # the others (past the list cap, disabled) get ids of their own


def test_element_ids_name_each_view_by_its_first_action_of_any_kind():
    source = page(
        node(EDIT, rid="email", bounds=big(100), clickable=True),
        node("android.widget.CheckBox", rid="remember", text="Remember", bounds=big(300), checkable=True, clickable=True),
        node(LAYOUT, rid="card", bounds=big(500), clickable=True, long_clickable=True),
        node("androidx.recyclerview.widget.RecyclerView", rid="notes", bounds=(0, 700, 1080, 2000), scrollable=True),
    )
    screen = parse_screen(source, activity=".Main", package=PKG)
    ids = element_ids(screen)
    named = [ids[i] for i, element in enumerate(screen.elements) if element.resource_id]
    assert named == ["element:id/content", "type:id/email", "toggle:id/remember", "tap:id/card", "scroll:id/notes:down"]
    assert set(named[1:]) <= {action.action_id for action in enumerate_actions(screen)}


def test_every_rule_is_named_as_in_the_accessibility_test_framework():
    assert RULES == ("SpeakableTextPresentCheck", "TouchTargetSizeCheck", "DuplicateClickableBoundsCheck",
                     "EditableContentDescCheck")


def test_a_page_source_that_is_not_the_screens_is_refused():
    screen = parse_screen(page(node(BUTTON, text="OK", bounds=big(300), clickable=True)), package=PKG)
    with pytest.raises(ValueError, match="not the one"):
        accessibility_issues(screen, 420, page_source=page(), package=PKG)
    with pytest.raises(ValueError, match="density"):
        accessibility_issues(screen, 0, page_source=page(), package=PKG)
