"""Pure exploration logic: functions over parsed UI trees, no device, no I/O.

One step of the device worker::

    screen = parse_screen(page_source, activity=".HomeActivity", package="com.example.notes")
    actions = enumerate_actions(screen, inputs={"username": "alice"})
    action = policy.choose(screen, actions)      # None: nothing reachable is left -> stop "explored"
    ...                                          # the worker performs it through Appium
    policy.observe(screen, action, after)        # after: the screen perceived next
    progress.record(after.screen_id, (screen.screen_id, action.action_id, after.screen_id))

- `parse_screen` turns UiAutomator2 page source into a `Screen` of `Element`s
  (malformed XML raises `PageSourceError`).
- `enumerate_actions` lists what can be done there: type into fields (user
  `inputs` by id, hint or description, else generated text), toggle
  checkables, tap clickables, long-press long-clickables, scroll each
  scrollable view down, at most 3 items of a repeated list (every item a
  scrolling list shows, named by its label); the screen's fixed parts first,
  then what scrolls (one view of each shape before the rest), top to bottom
  within each; then a tap on each leaf view no touchable view covers
  (`declared=False`); then back. Each `Action` carries an Appium
  locator and an `action_id` that is the same on every visit of the screen;
  `to_dict`/`from_dict` for events.
- `DepthFirstPolicy` crawls systematically (fill fields, then buttons, long
  presses, what scrolling reveals (a scroll budget per view); then the nearest
  screen with untried actions over the learned graph; then back);
  `RandomPolicy` is the baseline; `LlmPolicy` steers the crawl with a
  language model (a `ChatModel` the caller hands it; each use an `LlmCall`).
  `ProgressTracker` says when no new screen or transition has appeared for
  `limit` steps; `goal_text`/`screen_shows` tell when a goal ("open
  'Settings'") is on screen.
- Besides the app (DESIGN.md "What real apps do to an agent"): `system.py` tells the permission
  controller's dialogs (and how a run answers them) and other apps from the app; `offer.py` keeps
  back what a run does not touch (its `avoid` patterns, guessed passwords on a login wall);
  `webview.py` finds web content shown as an empty box (enumerate_actions taps a grid over it,
  `tap@<x>,<y>`, after the declared actions); `labels.py` labels screens and runs.
- `ExplorationHistory.from_events` reads what a run explored back from its
  events; `policy.restore(history)` continues from there (a resumed run, or
  one taken over from a lost worker).

Screen identity (`Screen.screen_id`): package + activity + the structure of
the displayed elements (short class, resource-id name, clickable / editable /
checkable), with runs of repeated siblings kept once. Texts, typed values,
counters, checked/enabled state, bounds, list lengths and what a scrollable
view shows (its items' majority shape counts) are left out, so
revisiting a screen, or one product page shown for any product, gives one id.
Screens that differ only by text (two dialogs with the same layout) merge, and
a view that appears (an error label) makes a new screen; see `screen.py`.
The id is a SHA-1 prefix of `Screen.signature`, the same in every process.
"""

from domain.exploration.actions import BACK, MAX_LIST_ITEMS, Action, enumerate_actions
from domain.exploration.elements import Element, PageSourceError
from domain.exploration.goal import goal_text, screen_shows
from domain.exploration.graph import ScreenGraph
from domain.exploration.history import ExplorationHistory
from domain.exploration.inputs import generated_text, matching_input, text_for
from domain.exploration.llm_policy import ChatModel, LlmCall, LlmPolicy, ModelReply
from domain.exploration.policy import DepthFirstPolicy, ExplorationPolicy, RandomPolicy
from domain.exploration.progress import ProgressTracker
from domain.exploration.screen import Screen, parse_screen

__all__ = [
    "BACK",
    "MAX_LIST_ITEMS",
    "Action",
    "ChatModel",
    "DepthFirstPolicy",
    "Element",
    "ExplorationHistory",
    "ExplorationPolicy",
    "LlmCall",
    "LlmPolicy",
    "ModelReply",
    "PageSourceError",
    "ProgressTracker",
    "RandomPolicy",
    "Screen",
    "ScreenGraph",
    "enumerate_actions",
    "generated_text",
    "goal_text",
    "matching_input",
    "parse_screen",
    "screen_shows",
    "text_for",
]
