import hashlib
import subprocess
import sys

from domain.exploration import parse_screen
from tests.unit.exploration.pagesource import (
    PKG, catalog_page, flat_catalog_page, frame, hierarchy, login_page, node, product_page, row,
)


def screen_id(source: str, activity: str = ".Main") -> str:
    return parse_screen(source, activity=activity, package=PKG).screen_id


def test_id_is_a_short_hex_hash_of_the_signature():
    screen = parse_screen(login_page(), activity=".LoginActivity", package=PKG)
    assert screen.screen_id == hashlib.sha1(screen.signature.encode()).hexdigest()[:12]
    assert screen.signature.startswith(f"{PKG}/.LoginActivity ")
    assert "EditText#username:ce" in screen.signature


def test_typed_text_counters_errors_and_checked_state_keep_the_id():
    empty = screen_id(login_page())
    assert screen_id(login_page(username="alice", password="secret", error="Invalid", counter=7)) == empty


def test_list_length_keeps_the_id():
    assert screen_id(catalog_page(3)) == screen_id(catalog_page(30, cart=4)) == screen_id(catalog_page(1))
    assert screen_id(flat_catalog_page(3)) == screen_id(flat_catalog_page(12))


def test_one_product_page_for_every_product():
    assert screen_id(product_page("Lamp", "$10")) == screen_id(product_page("Desk", "$250.00"))


def test_bounds_shifts_keep_the_id():
    shifted = login_page().replace("[0,200][1080,300]", "[0,203][1080,302]")
    assert shifted != login_page()
    assert screen_id(shifted) == screen_id(login_page())


def test_structure_changes_the_id():
    base = screen_id(login_page())
    assert screen_id(login_page(), activity=".OtherActivity") != base
    assert screen_id(catalog_page(3)) != base
    assert screen_id(catalog_page(0)) != screen_id(catalog_page(3))  # the empty state is its own screen
    extra = hierarchy(frame(node("android.widget.Button", rid="sign_in", bounds=row(100), clickable=True)))
    same_id_not_clickable = hierarchy(frame(node("android.widget.Button", rid="sign_in", bounds=row(100))))
    assert screen_id(extra) != screen_id(same_id_not_clickable)


def test_hidden_views_are_not_part_of_the_identity():
    visible = hierarchy(frame(node("android.widget.Button", rid="ok", bounds=row(100), clickable=True)))
    with_hidden = hierarchy(frame(
        node("android.widget.Button", rid="ok", bounds=row(100), clickable=True),
        node("android.widget.TextView", rid="banner", bounds=row(200), displayed=False),
    ))
    assert screen_id(with_hidden) == screen_id(visible)


def test_a_toast_over_the_screen_keeps_the_id():
    toast = node("android.widget.Toast", text="Saved", bounds=(140, 2000, 940, 2130))
    with_toast = login_page().replace("</hierarchy>", toast + "</hierarchy>")
    assert screen_id(with_toast) == screen_id(login_page())
    assert any(element.text == "Saved" for element in parse_screen(with_toast).elements)


def test_full_activity_names_read_as_short_ones():
    assert screen_id(login_page(), activity=f"{PKG}.Main") == screen_id(login_page(), activity=".Main")


def test_id_is_stable_across_processes():
    code = (
        "from domain.exploration import parse_screen;"
        "from tests.unit.exploration.pagesource import catalog_page;"
        "print(parse_screen(catalog_page(5), activity='.Main', package='com.example.shop').screen_id)"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123"}, cwd=_repo_root())
    assert other.stdout.strip() == screen_id(catalog_page(5))


def test_package_defaults_to_the_nodes_package_and_in_app_compares_it():
    screen = parse_screen(login_page())
    assert screen.package == PKG
    assert screen.in_app(PKG)
    launcher_icon = node("android.widget.TextView", text="Phone", pkg="com.android.launcher3")
    launcher = parse_screen(hierarchy(launcher_icon))
    assert not launcher.in_app(PKG)


def test_list_items_know_their_position_in_the_list():
    screen = parse_screen(catalog_page(4))
    rows = [element for element in screen.elements if element.short_id == "product_row"]
    assert [element.repeat for element in rows] == [(0,), (1,), (2,), (3,)]
    add_buttons = [element for element in screen.elements if element.short_id == "add_to_cart"]
    assert [element.repeat for element in add_buttons] == [(0,), (1,), (2,), (3,)]
    assert all(element.repeat == () for element in screen.elements if element.short_id == "cart")


def _repo_root() -> str:
    import pathlib
    return str(pathlib.Path(__file__).resolve().parents[3])
