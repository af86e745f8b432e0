"""Runs of repeated siblings: the list items a screen shows any number of."""

from __future__ import annotations

# Longest item (in sibling tokens) we look for. Nested lists repeat one subtree (period 1);
# flat renderings repeat an item's few views side by side; 8 covers them and keeps
# the search linear in the number of siblings.
MAX_PERIOD = 8


def collapse_runs(tokens: list[str]) -> tuple[list[str], list[int | None]]:
    """Keep one copy of each run of repeated tokens, so 3 or 30 list items read alike.

    Returns the kept tokens and, per input token, its ordinal in the run
    (0 for the first item, 1 for the second...) or None outside runs.
    """
    kept: list[str] = []
    ordinals: list[int | None] = [None] * len(tokens)
    start = 0
    while start < len(tokens):
        period, count = _longest_run(tokens, start)
        kept.extend(tokens[start : start + period])
        if count > 1:
            for offset in range(period * count):
                ordinals[start + offset] = offset // period
        start += period * count
    return kept, ordinals


def _longest_run(tokens: list[str], start: int) -> tuple[int, int]:
    """(period, count) of the run starting at `start` covering the most tokens; (1, 1) if none.

    Ties go to the shorter period: "a a a a" is four a's, not two "a a".
    """
    best_period, best_count = 1, 1
    for period in range(1, MAX_PERIOD + 1):
        block = tokens[start : start + period]
        if len(block) < period:
            break
        count = 1
        while tokens[start + count * period : start + (count + 1) * period] == block:
            count += 1
        if count > 1 and period * count > best_period * best_count:
            best_period, best_count = period, count
    return best_period, best_count
