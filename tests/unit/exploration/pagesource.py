"""Builders of UiAutomator2-style page source, as a real device or the simulator returns it."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

PKG = "com.example.shop"
_FLAGS = ("checkable", "checked", "clickable", "enabled", "focusable", "focused",
          "long-clickable", "password", "scrollable", "selected", "displayed")
_DEFAULTS = {"enabled": True, "displayed": True}


def node(cls: str, rid: str = "", text: str = "", desc: str = "", hint: str = "",
         bounds: tuple[int, int, int, int] = (0, 0, 1080, 100), children: tuple[str, ...] = (),
         pkg: str = PKG, index: int = 0, **flags: bool) -> str:
    """One element; `rid` is the short id ("sign_in"), written as "<pkg>:id/sign_in"."""
    values = {**_DEFAULTS, **{name.replace("_", "-"): value for name, value in flags.items()}}
    attrs = {
        "index": str(index), "package": pkg, "class": cls, "text": text,
        "resource-id": f"{pkg}:id/{rid}" if rid else "", "content-desc": desc, "hint": hint,
        **{flag: "true" if values.get(flag, False) else "false" for flag in _FLAGS},
        "bounds": "[{},{}][{},{}]".format(*bounds),
    }
    rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attrs.items())
    if not children:
        return f"<{cls} {rendered} />"
    return f"<{cls} {rendered}>" + "".join(children) + f"</{cls}>"


def hierarchy(*nodes: str) -> str:
    body = "".join(nodes)
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
        f'<hierarchy index="0" class="hierarchy" rotation="0" width="1080" height="2400">{body}</hierarchy>'
    )


def row(y: int, height: int = 100) -> tuple[int, int, int, int]:
    return (0, y, 1080, y + height)


def frame(*children: str) -> str:
    """The decor frame around an activity's content, as UiAutomator2 shows it."""
    content = node("android.widget.LinearLayout", rid="content", bounds=(0, 0, 1080, 2400), children=children)
    return node("android.widget.FrameLayout", bounds=(0, 0, 1080, 2400), children=(content,))


def login_page(username: str = "", password: str = "", error: str = "", counter: int = 0) -> str:
    return hierarchy(frame(
        node("android.widget.TextView", rid="title", text=f"Sign in ({counter} attempts)", bounds=row(100)),
        node("android.widget.EditText", rid="username", text=username, hint="Username", bounds=row(200),
             clickable=True, focusable=True),
        node("android.widget.EditText", rid="password", text="•" * len(password), hint="Password",
             bounds=row(300), clickable=True, focusable=True, password=True),
        node("android.widget.CheckBox", rid="remember", text="Remember me", bounds=row(400),
             checkable=True, clickable=True, checked=bool(username)),
        node("android.widget.Button", rid="sign_in", text="Sign in", bounds=row(500), clickable=True),
        node("android.widget.TextView", rid="error", text=error, bounds=row(600)),
    ))


def product_item(y: int, name: str, price: str) -> str:
    """One list row: a clickable layout holding a title, a price and an add button."""
    layout = "android.widget.LinearLayout"
    return node(layout, rid="product_row", bounds=row(y, 150), clickable=True, children=(
        node("android.widget.TextView", rid="product_name", text=name, bounds=(0, y, 700, y + 75)),
        node("android.widget.TextView", rid="product_price", text=price, bounds=(0, y + 75, 700, y + 150)),
        node("android.widget.Button", rid="add_to_cart", text="Add", bounds=(800, y, 1080, y + 150),
             clickable=True),
    ))


def catalog_page(count: int, cart: int = 0, scrollable: bool | None = None) -> str:
    """A nested list of `count` products in a RecyclerView, with a cart button showing a counter;
    the list is scrollable when it is longer than the display (more than 5 items), as on a device."""
    items = tuple(product_item(300 + 150 * i, f"Product {i}", f"${i}.99") for i in range(count))
    return hierarchy(frame(
        node("android.widget.TextView", text="Catalog", bounds=row(100)),
        node("android.widget.ImageButton", rid="cart", desc=f"Cart ({cart})", bounds=(900, 100, 1080, 200),
             clickable=True),
        node("androidx.recyclerview.widget.RecyclerView", rid="products", bounds=(0, 300, 1080, 2400),
             scrollable=count > 5 if scrollable is None else scrollable, children=items),
    ))


def flat_catalog_page(count: int) -> str:
    """The same list rendered flat, as the simulator lays out elements: each item's views side by side."""
    views: list[str] = [node("android.widget.TextView", rid="heading", text="Deals", bounds=row(100))]
    for i in range(count):
        y = 200 + 200 * i
        views += [
            node("android.widget.TextView", rid="deal_title", text=f"Deal {i}", bounds=row(y),
                 clickable=True),
            node("android.widget.TextView", rid="deal_price", text=f"{i}0% off", bounds=row(y + 100)),
        ]
    views.append(node("android.widget.Button", rid="more", text="More deals", bounds=row(2300),
                      clickable=True))
    return hierarchy(frame(*views))


def product_page(name: str, price: str) -> str:
    return hierarchy(frame(
        node("android.widget.TextView", rid="name", text=name, bounds=row(100)),
        node("android.widget.TextView", rid="price", text=price, bounds=row(200)),
        node("android.widget.Button", rid="buy", text="Buy now", bounds=row(300), clickable=True),
    ))
