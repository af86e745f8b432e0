"""Screens that change by themselves (APP_MODEL.md, "Time"): a screen's `after` applies its rules once the
screen has been shown that long without leaving it; while it waits its `loading` elements are ProgressBars.
Also the news sample (apps/news.json): a splash screen, a feed that loads, a freeze on a tap."""

from __future__ import annotations

import json
import time

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.fixtures.appium import sample_app
from tests.sim.helpers import (
    NEWS, PROGRESS_BAR, by_id, progress_bars, source_tree, tiny_model, until, wait_for, write_model,
)

TINY = "com.example.tiny"
WAIT_MS = 1000


def timed_app(tmp_path, **extra):
    """a waits WAIT_MS (a ProgressBar meanwhile), then goes to c; its button leads to b."""
    model = tiny_model(
        a={"activity": ".A", "after": {"ms": WAIT_MS, "rules": [{"goto": "c"}]}, "elements": [
            {"id": "spinner", "loading": True},
            {"id": "to_b", "class": "android.widget.Button", "text": "To B", "onClick": [{"goto": "b"}]}]},
        c={"activity": ".C", "elements": [{"id": "done", "class": "android.widget.TextView", "text": "Done"}]},
        **extra,
    )
    return write_model(tmp_path, model, "timed.json")


def test_after_applies_its_rules_once_the_screen_was_shown_that_long(driver_for, tmp_path):
    path = timed_app(tmp_path)
    started = time.monotonic()
    d = driver_for(path)
    assert d.current_activity == ".A"
    assert progress_bars(d) == [f"{TINY}:id/spinner"]
    spinner = source_tree(d).find(f".//{PROGRESS_BAR}")
    assert spinner.get("clickable") == "false" and spinner.get("text") == ""
    assert time.monotonic() - started < WAIT_MS / 1000, "the checks above ran after the wait: the machine was too slow"
    wait_for(lambda: d.current_activity == ".C")
    assert time.monotonic() - started >= WAIT_MS / 1000
    assert progress_bars(d) == []
    d.back()
    assert d.current_activity == ".A"  # a goto from `after` is a goto: a's visit is below
    assert progress_bars(d) == []  # that visit is done waiting: its rules applied once
    until(time.monotonic() + 1.2 * WAIT_MS / 1000, lambda: None)
    assert d.current_activity == ".A"


def test_leaving_the_screen_stops_its_wait_and_coming_back_starts_it_again(driver_for, tmp_path):
    started = time.monotonic()
    d = driver_for(timed_app(tmp_path))
    by_id(d, "to_b").click()
    assert time.monotonic() - started < WAIT_MS / 1000, "the machine was too slow"
    # well past a's time, on b: nothing happens
    until(started + 1.5 * WAIT_MS / 1000, lambda: None)
    assert d.current_activity == ".B"
    d.back()
    back_at = time.monotonic()
    assert d.current_activity == ".A" and progress_bars(d) == [f"{TINY}:id/spinner"]
    wait_for(lambda: d.current_activity == ".C")
    assert time.monotonic() - back_at >= WAIT_MS / 1000


def test_the_background_is_no_screen_shown(driver_for, tmp_path):
    started = time.monotonic()
    d = driver_for(timed_app(tmp_path))
    d.press_keycode(3)  # home: the app waits in the background
    until(started + 1.5 * WAIT_MS / 1000, lambda: None)
    d.activate_app(TINY)
    resumed = time.monotonic()
    assert d.current_activity == ".A" and progress_bars(d)
    wait_for(lambda: d.current_activity == ".C")
    assert time.monotonic() - resumed >= WAIT_MS / 1000


def test_a_banner_appears_on_the_same_screen_and_the_progress_bar_goes(driver_for, tmp_path):
    model = tiny_model(a={"activity": ".A", "after": {"ms": 600, "rules": [{"set": {"banner": "Breaking news"}}]},
                          "elements": [{"id": "banner", "class": "android.widget.TextView", "text": ""},
                                       {"id": "bar", "class": "android.widget.ProgressBar", "loading": True}]})
    started = time.monotonic()
    d = driver_for(write_model(tmp_path, model))
    assert by_id(d, "banner").text == "" and progress_bars(d) == [f"{TINY}:id/bar"]
    wait_for(lambda: by_id(d, "banner").text == "Breaking news")
    assert time.monotonic() - started >= 0.6
    assert d.current_activity == ".A" and progress_bars(d) == []
    until(time.monotonic() + 0.7, lambda: None)
    assert by_id(d, "banner").text == "Breaking news"  # once per visit


def test_screens_due_while_nobody_asked_change_at_the_next_command(driver_for, tmp_path):
    """No timer runs: the first command after both waits finds the screen two `after`s on."""
    model = tiny_model(
        a={"activity": ".A", "after": {"ms": 300, "rules": [{"goto": "b"}]}},
        b={"activity": ".B", "after": {"ms": 300, "rules": [{"when": {"never": "x"}, "goto": "a"}, {"goto": "c"}]}},
        c={"activity": ".C"},
    )
    started = time.monotonic()
    d = driver_for(write_model(tmp_path, model))
    until(started + 0.9)  # no command meanwhile
    assert d.current_activity == ".C"


@pytest.mark.parametrize(("screen", "message"), [
    ({"activity": ".A", "after": {"rules": [{"goto": "b"}]}}, "screens.a.after.ms: is required"),
    ({"activity": ".A", "after": {"ms": -5, "rules": [{"goto": "b"}]}}, "screens.a.after.ms: must be a number of milliseconds"),
    ({"activity": ".A", "after": {"ms": 100, "rules": [{"goto": "nowhere"}]}},
     'screens.a.after.rules[0].goto: unknown screen "nowhere"'),
    ({"activity": ".A", "after": {"ms": 100}}, "screens.a.after.rules: is required"),
    ({"activity": ".A", "after": {"ms": 100, "rules": []}}, "screens.a.after.rules: must hold at least one rule"),
    ({"activity": ".A", "after": 1500}, "screens.a.after: must be an object"),
    ({"activity": ".A", "elements": [{"id": "s", "loading": True}]},
     'screens.a.elements[0].loading: the screen has no "after"'),
    ({"activity": ".A", "elements": [{"id": "s", "loading": "yes"}]}, "screens.a.elements[0].loading: must be true or false"),
    ({"activity": ".A", "dialog": "yes"}, "screens.a.dialog: must be true or false"),
])
def test_bad_timed_screens_are_refused_at_session_creation(driver_for, tmp_path, screen, message):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(write_model(tmp_path, tiny_model(a=screen)))
    assert message in err.value.msg


# --- the news sample ----------------------------------------------------------------------------------


def test_news_holds_6_to_8_activities_and_its_6_s_freeze():
    # every activity reachable by clicking and by its timers: tests/sim/test_sample_apps.py
    model = json.loads(open(sample_app("news")).read())
    assert 6 <= len({s["activity"] for s in model["screens"].values()}) <= 8
    assert model["screens"]["downloads"]["elements"][1]["onClick"] == [{"anr": {"seconds": 6}}]


def test_news_splash_then_a_feed_that_loads(driver_for):
    started = time.monotonic()
    d = driver_for("news")
    assert d.current_activity == ".SplashActivity"
    assert progress_bars(d) == [f"{NEWS}:id/splash_progress"]
    wait_for(lambda: d.current_activity == ".HomeActivity")
    assert time.monotonic() - started >= 1.5
    by_id(d, "open_feed").click()
    opened = time.monotonic()
    assert progress_bars(d) == [f"{NEWS}:id/feed_progress"] and not d.find_elements("id", "story")
    stories = wait_for(lambda: d.find_elements("id", "story"))
    assert time.monotonic() - opened >= 1.0
    assert d.current_activity == ".FeedActivity" and progress_bars(d) == []
    stories[0].click()
    assert d.current_activity == ".ArticleActivity"
    d.back()
    d.back()  # the loaded feed goes back home, not to the loading one
    assert d.current_activity == ".HomeActivity"
    d.back()  # home is where the splash finished: back leaves the app
    assert d.query_app_state(NEWS) == 3


def test_news_download_all_freezes_the_app(driver_for):
    d = driver_for("news")
    wait_for(lambda: d.current_activity == ".HomeActivity")
    by_id(d, "open_downloads").click()
    by_id(d, "download_all").click()
    frozen = d.page_source
    by_id(d, "manage_storage").click()  # the app does not answer
    assert d.page_source == frozen and d.current_activity == ".DownloadsActivity"
