import pytest

from domain.exploration import goal_text, parse_screen, screen_shows
from tests.unit.exploration.pagesource import frame, hierarchy, node, row


@pytest.mark.parametrize("goal, text", [
    ('Open the "Settings" screen', "Settings"),
    ("Open the 'About' page", "About"),
    ("Find “Dark mode” in settings", "Dark mode"),
    ("Reach ‘Checkout’", "Checkout"),
    ('Go to "Cart" then "Checkout"', "Cart"),
    ("Don't stop before 'Order placed'", "Order placed"),
    ("  reach the about screen  ", "reach the about screen"),
    ('Tap "  Profile  "', "Profile"),
    ("", ""),
])
def test_goal_text_is_the_first_quoted_part_or_the_whole_goal(goal, text):
    assert goal_text(goal) == text


SCREEN = parse_screen(hierarchy(frame(
    node("android.widget.TextView", rid="title", text="Order placed!", bounds=row(100)),
    node("android.widget.ImageButton", rid="share", desc="Share receipt", bounds=row(200), clickable=True),
    node("android.widget.TextView", rid="secret", text="Hidden banner", bounds=row(300), displayed=False),
    node("android.widget.EditText", rid="note", hint="Add a note", bounds=row(400)),
)))


@pytest.mark.parametrize("text, shown", [
    ("order placed", True),
    ("ORDER", True),
    ("share receipt", True),
    ("Hidden banner", False),  # not displayed
    ("Add a note", False),  # a hint is a prompt, not content
    ("Checkout", False),
    ("", False),
    ("   ", False),
])
def test_screen_shows_matches_displayed_text_or_description_ignoring_case(text, shown):
    assert screen_shows(SCREEN, text) is shown
