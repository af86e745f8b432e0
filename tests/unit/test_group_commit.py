"""Group commit (api/group_commit.py): who shares a commit, what each caller gets back, and errors."""

from __future__ import annotations

import asyncio

import pytest

from api.group_commit import GroupCommit


class Committer:
    """Records each commit's items and answers each item doubled; commits can be held open, and the
    `failing` ones (by number, from 1) fail."""

    def __init__(self, failing: tuple[int, ...] = ()) -> None:
        self.commits: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.failing = failing

    async def __call__(self, items: list[int]) -> list[int]:
        self.commits.append(items)
        await self.release.wait()
        if len(self.commits) in self.failing:
            raise ValueError("the database refused")
        return [item * 2 for item in items]


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0)


def test_items_submitted_during_a_commit_share_the_next_one_and_each_gets_its_own_answer():
    async def scenario():
        committer = Committer()
        committer.release.clear()  # the first commit stays in flight while three more items come
        group = GroupCommit(committer, max_size=64, window=0)
        first = asyncio.ensure_future(group.submit(1))
        await until(lambda: committer.commits)
        others = [asyncio.ensure_future(group.submit(n)) for n in (2, 3, 4)]
        committer.release.set()
        return await asyncio.gather(first, *others), committer.commits

    answers, commits = asyncio.run(scenario())
    assert answers == [2, 4, 6, 8]
    assert commits == [[1], [2, 3, 4]]


def test_a_commit_takes_at_most_max_size_items_in_the_order_they_came():
    async def scenario():
        committer = Committer()
        group = GroupCommit(committer, max_size=2, window=0)
        answers = await asyncio.gather(*[group.submit(n) for n in range(5)])
        return answers, committer.commits

    answers, commits = asyncio.run(scenario())
    assert answers == [0, 2, 4, 6, 8]
    assert commits == [[0, 1], [2, 3], [4]]


def test_while_items_come_concurrently_a_commit_waits_the_window_for_more():
    async def scenario():
        committer = Committer()
        group = GroupCommit(committer, max_size=64, window=0.5)
        await asyncio.gather(group.submit(1), group.submit(2))  # concurrent: the next commit waits for company
        alone = asyncio.ensure_future(group.submit(3))
        for _ in range(20):  # many turns of the loop: without the window, 3 would be committed alone by now
            await asyncio.sleep(0)
        company = asyncio.ensure_future(group.submit(4))
        await asyncio.gather(alone, company)
        return committer.commits

    assert asyncio.run(scenario()) == [[1, 2], [3, 4]]


def test_a_lone_item_after_a_lone_commit_does_not_wait_for_company():
    async def scenario():
        committer = Committer()
        group = GroupCommit(committer, max_size=64, window=3600)  # a wait would outlast the test's timeout
        await group.submit(1)
        return await asyncio.wait_for(group.submit(2), timeout=30)

    assert asyncio.run(scenario()) == 4


def test_a_failed_commit_fails_each_of_its_callers_and_the_next_commit_goes_on():
    async def scenario():
        committer = Committer(failing=(2,))
        committer.release.clear()
        group = GroupCommit(committer, max_size=64, window=0)
        first = asyncio.ensure_future(group.submit(1))
        await until(lambda: committer.commits)
        failing = [asyncio.ensure_future(group.submit(n)) for n in (2, 3)]
        committer.release.set()
        outcomes = await asyncio.gather(first, *failing, return_exceptions=True)
        return outcomes, await group.submit(5), committer.commits

    outcomes, after, commits = asyncio.run(scenario())
    assert commits == [[1], [2, 3], [5]]
    assert outcomes[0] == 2 and [type(o) for o in outcomes[1:]] == [ValueError, ValueError]
    assert after == 10


def test_a_commit_that_answers_too_few_items_fails_its_callers_instead_of_leaving_them_waiting():
    async def short(items: list[int]) -> list[int]:
        return items[:1]

    async def scenario():
        group = GroupCommit(short, max_size=64, window=0)
        return await asyncio.gather(group.submit(1), group.submit(2), return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_a_caller_that_went_away_does_not_stop_the_others_answers():
    async def scenario():
        committer = Committer()
        committer.release.clear()
        group = GroupCommit(committer, max_size=64, window=0)
        first = asyncio.ensure_future(group.submit(1))
        await until(lambda: committer.commits)
        gone, staying = asyncio.ensure_future(group.submit(2)), asyncio.ensure_future(group.submit(3))
        await asyncio.sleep(0)
        gone.cancel()
        committer.release.set()
        return await first, await staying, gone.cancelled(), committer.commits

    assert asyncio.run(scenario()) == (2, 6, True, [[1], [2, 3]])


@pytest.mark.parametrize("window", [0, 0.001])
def test_many_concurrent_callers_each_get_their_answer(window):
    async def scenario():
        committer = Committer()
        group = GroupCommit(committer, max_size=8, window=window)
        answers = await asyncio.gather(*[group.submit(n) for n in range(100)])
        return answers, committer.commits

    answers, commits = asyncio.run(scenario())
    assert answers == [n * 2 for n in range(100)]
    assert sorted(n for commit in commits for n in commit) == list(range(100)) and max(map(len, commits)) <= 8
