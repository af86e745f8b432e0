from domain.exploration import parse_screen
from domain.exploration.outline import outline
from tests.unit.exploration.pagesource import PKG, catalog_page, frame, hierarchy, login_page, node, row


def lines(source: str) -> list[str]:
    return outline(parse_screen(source, activity=".Main", package=PKG))


def test_controls_by_label_views_with_ids_by_shape_typed_text_left_out():
    assert lines(login_page(username="alice", password="secret", error="Wrong", counter=3)) == [
        'Button#sign_in "Sign in"', 'CheckBox#remember "Remember me"', 'EditText#password "Password"',
        'EditText#username "Username"', "LinearLayout#content", "TextView#error", "TextView#title"]
    assert lines(login_page()) == lines(login_page(username="bob", error="x"))


def test_list_items_count_once_whatever_they_show_and_counters_are_no_new_label():
    assert lines(catalog_page(3, cart=0)) == lines(catalog_page(30, cart=17, scrollable=False))
    assert {"LinearLayout#product_row (list item)", 'ImageButton#cart "Cart (#)"'} <= set(lines(catalog_page(3)))


def test_a_renamed_button_changes_its_line_and_a_toast_is_no_element():
    renamed = hierarchy(frame(node("android.widget.Button", rid="go", text="Proceed", bounds=row(100), clickable=True),
                              node("android.widget.Toast", text="Saved", bounds=row(900))))
    assert lines(renamed) == ['Button#go "Proceed"', "LinearLayout#content"]
