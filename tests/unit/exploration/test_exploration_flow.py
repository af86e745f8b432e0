"""The pieces together, as the device worker uses them, on page source of a small shop app."""

from domain.exploration import (
    DepthFirstPolicy, ProgressTracker, enumerate_actions, goal_text, parse_screen, screen_shows,
)
from domain.exploration.graph import LIST_SAMPLES
from tests.unit.exploration.pagesource import PKG, catalog_page, hierarchy, login_page, node, product_page

LAUNCHER = hierarchy(node("android.widget.TextView", text="Phone", pkg="com.android.launcher3"))


class ShopApp:
    """Login (alice / secret), a catalog of 48 products, one product page per product."""

    def __init__(self) -> None:
        self.stack: list[str] = ["login"]
        self.typed: dict[str, str] = {}
        self.product = 0
        self.cart = 0

    def page(self) -> tuple[str, str]:
        top = self.stack[-1] if self.stack else "outside"
        if top == "login":
            typed = self.typed.get("username", ""), self.typed.get("password", "")
            return login_page(*typed), ".LoginActivity"
        if top == "catalog":
            return catalog_page(48, cart=self.cart), ".CatalogActivity"
        if top == "product":
            return product_page(f"Product {self.product}", f"${self.product}.99"), ".ProductActivity"
        return LAUNCHER, ".Launcher"

    def perform(self, action) -> None:
        top, aid = self.stack[-1], action.action_id
        if action.kind == "back":
            self.stack.pop()
        elif action.kind == "type":
            self.typed[aid.removeprefix("type:id/")] = action.text
        elif aid == "tap:id/sign_in" and self.typed == {"username": "alice", "password": "secret"}:
            self.stack.append("catalog")
        elif top == "catalog" and aid.startswith("tap:LinearLayout#product_row@"):
            self.product = int(aid.rsplit("@", 1)[1])
            self.stack.append("product")
        elif aid.startswith("tap:Button#add_to_cart@"):
            self.cart += 1
        if not self.stack or self.stack[-1] != top:
            self.typed = {}


def perceive(app: ShopApp):
    source, activity = app.page()
    return parse_screen(source, activity=activity, package=PKG if app.stack else "com.android.launcher3")


def test_a_run_maps_the_shop_and_stops_explored():
    app, policy, progress = ShopApp(), DepthFirstPolicy(seed=7), ProgressTracker(limit=15)
    inputs = {"Username": "alice", "password": "secret"}
    screens, products_opened = set(), 0
    for _ in range(200):
        if not app.stack:
            app.__init__()  # the worker relaunches the app
        screen = perceive(app)
        screens.add((screen.activity, screen.screen_id))
        action = policy.choose(screen, enumerate_actions(screen, inputs))
        if action is None:
            break
        products_opened += action.action_id.startswith("tap:LinearLayout#product_row@")
        app.perform(action)
        after = perceive(app)
        policy.observe(screen, action, after)
        progress.record(after.screen_id, (screen.screen_id, action.action_id, after.screen_id))
    else:
        raise AssertionError("the policy never said the app was explored")
    activities = sorted(activity for activity, _ in screens)
    assert activities == [".CatalogActivity", ".LoginActivity", ".ProductActivity"]
    assert products_opened == LIST_SAMPLES  # 48 rows, one screen: a few representatives are enough
    assert policy.is_explored()
    assert not progress.stalled


def test_a_goal_is_seen_on_the_screen_that_shows_it():
    app = ShopApp()
    app.stack = ["login", "catalog", "product"]
    app.product = 2
    wanted = goal_text('Open the product page of "product 2"')
    assert screen_shows(perceive(app), wanted)
    app.product = 3
    assert not screen_shows(perceive(app), wanted)
