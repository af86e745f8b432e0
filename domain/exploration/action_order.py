"""The order a screen's actions are tried in: new screens first (DESIGN.md "Real apps")."""

from __future__ import annotations

from domain.exploration.elements import Element


def try_order(elements: tuple[Element, ...], indices: list[int]) -> list[int]:
    """New screens first (DESIGN.md "Real apps": a real screen offers dozens of actions). The screen's fixed
    parts (toolbars, tabs, navigation bars, its buttons) come before what scrolls: a long list's items mostly
    lead to one kind of screen, so there one view of each shape comes first, then the rest. Top to bottom
    within each; a screen without a scrolling view keeps that order."""
    shapes: set[tuple[str, str, str]] = set()
    tiers: dict[int, int] = {}
    for index in top_to_bottom(elements, indices):
        element = elements[index]
        if not element.scrolled:
            tiers[index] = 0
            continue
        shape = _shape(element)
        tiers[index] = 2 if shape in shapes else 1
        shapes.add(shape)
    return sorted(tiers, key=lambda index: tiers[index])  # stable: top to bottom within a tier


def top_to_bottom(elements: tuple[Element, ...], indices: list[int]) -> list[int]:
    return sorted(indices, key=lambda i: (elements[i].bounds[1], elements[i].bounds[0]))


def _shape(element: Element) -> tuple[str, str, str]:
    """What views of one kind share: class and id; a view without an id is told apart by its label
    (a Save and a Cancel button), unless it repeats (a list item's label is data)."""
    label = "" if element.resource_id or element.repeat else element.name
    return (element.class_name, element.resource_id, label)
