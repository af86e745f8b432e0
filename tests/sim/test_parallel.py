"""Many sessions on one server, each with its own app state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.sim.helpers import by_id


def test_parallel_sessions_have_independent_state(driver_for):
    drivers = [driver_for("notes") for _ in range(4)]

    def drive(i_driver):
        i, d = i_driver
        by_id(d, "accept").click()
        by_id(d, "username").send_keys(f"user{i}")
        for _ in range(3):
            assert by_id(d, "username").text == f"user{i}"
        if i % 2 == 0:
            d.press_keycode(3)
        return i

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(drive, enumerate(drivers))) == [0, 1, 2, 3]
    for i, d in enumerate(drivers):
        assert d.query_app_state("com.example.notes") == (3 if i % 2 == 0 else 4)
        d.activate_app("com.example.notes")
        assert by_id(d, "username").text == f"user{i}"


def test_sessions_of_different_apps_side_by_side(driver_for):
    notes, shop = driver_for("notes"), driver_for("shop")
    by_id(shop, "cat_books").click()
    assert notes.current_activity == ".ConsentActivity"
    assert shop.current_activity == ".CategoryActivity"
    assert not notes.is_app_installed("com.example.shop")
