"""The stale job's batched decisions agree with the round robin's, task after task.

The job decides a whole batch with ``leads.stale._Decider`` (sort keys and
pool JSON cached per candidate) instead of calling ``pick_next``,
``explain_pool`` and ``explain_pick`` for every task; live assignment, the
preview and the tracker use those three, so they are the reference here.
Pools are drawn by hypothesis: loads with ties, members never assigned,
skip reasons, the current assignee among them or not, members shared by two
pools, and a run of reassignments in a row so picks change later decisions.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from leads.models import Territory, TrackerRole
from leads.round_robin import Candidate, explain_pick, explain_pool, pick_next
from leads.stale import _Decider

NOW = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
TERRITORY = Territory(pk=1, name="U.S. East", slug="us-east")
AWAY = "current assignee (reassigning away)"


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Candidate], list[list[int]], list[int]]:
    """Candidates, pools as lists of indexes into them, and the tasks' pool and assignee."""
    size = draw(st.integers(1, 7))
    candidates = [
        Candidate(
            member_id=10 + i,
            user_id=100 + i,
            name=draw(st.sampled_from(["Ana", "Bo", "Çelik “CJ”", ""])),
            leads=draw(st.integers(0, 4)),
            adjustment=draw(st.integers(-2, 3)),
            priority=draw(st.integers(1, 3)),
            last_assigned_at=draw(
                st.none() | st.integers(0, 5).map(lambda h: NOW - dt.timedelta(hours=h))
            ),
            skip_reason=draw(st.sampled_from(["", "", "", "on time off", "inactive"])),
        )
        for i in range(size)
    ]
    first = list(range(size))
    second = sorted(draw(st.sets(st.integers(0, size - 1), min_size=1)))
    tasks = draw(
        st.lists(st.tuples(st.integers(0, 1), st.integers(99, 100 + size)), min_size=1, max_size=25)
    )
    return candidates, [first, second], [p * 1000 + user for p, user in tasks]


def _reference(
    candidates: list[Candidate], away_user_id: int
) -> tuple[int, list[dict[str, object]], str] | None:
    saved = [(c, c.skip_reason) for c in candidates]
    for c in candidates:
        if c.user_id == away_user_id:
            c.skip_reason = AWAY
    chosen = pick_next(candidates)
    rows = explain_pool(candidates=candidates, chosen=chosen, others=())
    explanation = (
        explain_pick(
            territory=TERRITORY, role=TrackerRole.TAE, chosen=chosen, candidates=candidates
        )
        if chosen is not None
        else ""
    )
    for c, skip in saved:
        c.skip_reason = skip
    if chosen is None:
        return None
    return chosen.member_id, rows, explanation


@settings(max_examples=300, deadline=None)
@given(pools())
def test_each_batched_decision_is_the_round_robins(drawn):
    candidates, pool_indexes, tasks = drawn
    mine = copy.deepcopy(candidates)
    decider = _Decider()
    stamp = NOW
    for task in tasks:
        pool_no, away_user_id = divmod(task, 1000)
        reference_pool = [candidates[i] for i in pool_indexes[pool_no]]
        my_pool = [mine[i] for i in pool_indexes[pool_no]]

        expected = _reference(reference_pool, away_user_id)
        decision = decider.decide(my_pool, away_user_id=away_user_id)

        if expected is None:
            assert decision is None
            continue
        assert decision is not None
        chosen, pool_text = decision
        explanation = decider.explain(
            territory=TERRITORY,
            role=TrackerRole.TAE,
            chosen=chosen,
            candidates=my_pool,
            away_user_id=away_user_id,
        )
        assert (chosen.member_id, json.loads(pool_text), explanation) == expected
        stamp += dt.timedelta(microseconds=1)
        reference_chosen = next(c for c in reference_pool if c.member_id == chosen.member_id)
        reference_chosen.leads += 1
        reference_chosen.last_assigned_at = stamp
        decider.picked(chosen, at=stamp)
    assert [(c.leads, c.last_assigned_at, c.skip_reason) for c in mine] == [
        (c.leads, c.last_assigned_at, c.skip_reason) for c in candidates
    ]
