import json

from domain.exploration.actions import Action
from domain.findings.reproduction import reproduction_steps

TAP_LOGIN = Action("tap", ("id", "org.x:id/login"), label='tap "Log in"', action_id="tap:id/login")
TAP_MENU = Action("tap", ("xpath", '//*[@text="Menu"]'), label='tap "Menu"', action_id="tap:TextView[Menu]")
TAP_MORE = Action("tap", ("point", (540, 1800)), label='tap "More"', action_id="tap:View[More]")
SUBMIT = Action("tap", ("id", "org.x:id/submit"), label='tap "Submit"', action_id="tap:id/submit")
USER = Action("type", ("id", "org.x:id/user"), text="alice", label='type "alice" into "user"',
              action_id="type:id/user")
PASSWORD = Action("type", ("id", "org.x:id/password"), text="s3cr3t!", label='type "•••••••" into "password"',
                  action_id="type:id/password")
NOTE = Action("type", ("id", "org.x:id/note"), text="hello", label='type "hello" into "note"', action_id="type:id/note")
SCROLL = Action("scroll", ("id", "org.x:id/list"), label='scroll "list" down', action_id="scroll:id/list:down",
                direction="down")
SYNC = Action("tap", ("id", "org.x:id/sync"), label='tap "Sync now"', action_id="tap:id/sync")
ACTIONS = {a.action_id: a.to_dict()
           for a in (TAP_LOGIN, TAP_MENU, TAP_MORE, SUBMIT, USER, PASSWORD, NOTE, SCROLL, SYNC)}
INPUTS = {"user": "alice", "password": "s3cr3t!"}

# launch -> login -> home (2 legs), or launch -> menu -> more -> home (3 legs); home has the sync button.
TRANSITIONS = [
    ("menu", "tap:View[More]", "more"),
    ("launch", "tap:TextView[Menu]", "menu"),
    ("more", "tap:id/submit", "home"),
    ("launch", "tap:id/login", "login"),
    ("login", "tap:id/submit", "home"),
    ("home", "back", "launch"),
    ("login", "type:id/user", "login"),  # a self-loop is no road
]


def steps(target=("home", "tap:id/sync"), visits=None, transitions=TRANSITIONS, start="launch", inputs=INPUTS):
    visits = {} if visits is None else visits
    return reproduction_steps(transitions, start, target, visits, ACTIONS, inputs)


def test_the_route_is_the_shortest_known_one_then_the_trigger():
    route = steps()
    assert [s["actionId"] for s in route] == ["tap:id/login", "tap:id/submit", "tap:id/sync"]
    assert [(s["fromScreen"], s["toScreen"]) for s in route] == [("launch", "login"), ("login", "home"), ("home", None)]
    assert route[-1] == {"kind": "tap", "target": ["id", "org.x:id/sync"], "label": 'tap "Sync now"',
                         "actionId": "tap:id/sync", "fromScreen": "home", "toScreen": None}


def test_the_route_does_not_depend_on_the_order_transitions_come_in():
    assert steps(transitions=list(reversed(TRANSITIONS))) == steps(transitions=set(TRANSITIONS)) == steps()


def test_visit_actions_come_first_on_their_screen_and_user_inputs_become_keys():
    visits = {"login": [USER.to_dict(), PASSWORD.to_dict(), NOTE.to_dict()], "home": [SCROLL.to_dict()],
              "menu": [SCROLL.to_dict()]}  # menu is off the route: its visit actions stay out
    route = steps(visits=visits)
    assert [s["actionId"] for s in route] == ["tap:id/login", "type:id/user", "type:id/password", "type:id/note",
                                              "tap:id/submit", "scroll:id/list:down", "tap:id/sync"]
    typed = {s["actionId"]: s for s in route if s["kind"] == "type"}
    assert typed["type:id/user"]["inputKey"] == "user" and "text" not in typed["type:id/user"]
    assert typed["type:id/password"]["inputKey"] == "password"
    assert typed["type:id/note"]["text"] == "hello" and "inputKey" not in typed["type:id/note"]
    assert all((s["fromScreen"], s["toScreen"]) == ("login", "login") for s in typed.values())
    assert route[5]["direction"] == "down" and route[5]["fromScreen"] == route[5]["toScreen"] == "home"
    assert "s3cr3t!" not in json.dumps(route)  # a secret never reaches a step


def test_an_input_key_the_action_already_carries_is_kept():
    visits = {"login": [{**PASSWORD.to_dict(), "text": None, "inputKey": "password"}]}
    typed = steps(visits=visits, inputs={})[1]
    assert typed["inputKey"] == "password" and "text" not in typed


def test_routes_use_back_and_point_locators():
    route = steps(target=("more", "tap:id/submit"), start="home")
    assert [s["actionId"] for s in route] == ["back", "tap:TextView[Menu]", "tap:View[More]", "tap:id/submit"]
    assert route[0]["kind"] == "back" and route[0]["target"] is None
    assert route[2]["target"] == ["point", [540, 1800]]


def test_a_trigger_on_the_launch_screen_is_the_trigger_alone_after_its_visit_actions():
    route = steps(target=("launch", "tap:TextView[Menu]"), visits={"launch": [NOTE.to_dict()]})
    assert [(s["actionId"], s["fromScreen"], s["toScreen"]) for s in route] == [
        ("type:id/note", "launch", "launch"), ("tap:TextView[Menu]", "launch", None)]


def test_the_trigger_may_be_given_as_an_action_dict():
    assert steps(target=("home", SYNC.to_dict())) == steps()


def test_no_known_route_is_none():
    assert steps(target=("nowhere", "tap:id/sync")) is None
    assert steps(target=("home", "tap:id/sync"), transitions=[("home", "back", "launch")]) is None
    assert steps(target=("home", "tap:id/unknown")) is None  # nothing to locate it by


def test_transitions_over_unknown_actions_are_no_road():
    transitions = [("launch", "tap:id/gone", "home"), *TRANSITIONS]
    assert [s["actionId"] for s in steps(transitions=transitions)][0] == "tap:id/login"


def test_a_tap_on_a_leaf_view_that_says_it_is_not_clickable_stays_one_in_its_steps():
    canvas = Action("tap", ("id", "org.x:id/canvas"), label='tap "canvas"', action_id="tap:id/canvas", declared=False)
    route = steps(target=("home", canvas.to_dict()))
    assert route[-1]["declared"] is False
    assert all("declared" not in step for step in route[:-1])  # the declared ones' steps stay as they were
