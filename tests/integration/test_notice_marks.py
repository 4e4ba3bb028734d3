"""Marking the notices of a batch of duties at once (``storage.obligations.mark_notices_many``): one statement for
the batch, and where another writer marked a duty first, that one is left to it and every other is marked, exactly
as marking them one by one would (a sweep's notices queued by two workers are never marked twice)."""

from __future__ import annotations

from datetime import datetime

from domain.clock import AMSTERDAM
from flows.services import sweep
from flows.services.context import Services
from flows.testing.scenario import Scenario
from storage import obligations as store
from storage.read_models import StoredObligation
from tests.integration.de_linde import DESCRIPTION

MONDAY = datetime(2024, 1, 8, 6, 0, tzinfo=AMSTERDAM)


def open_duties(services: Services) -> list[StoredObligation]:
    with services.session() as s:
        return sorted(store.open_obligations(s), key=lambda r: r.key)


def test_a_batch_of_notices_is_marked_at_once_and_a_duty_another_writer_marked_first_is_left_to_it(
        services: Services) -> None:
    Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sweep.sweep_due(services, MONDAY)
    rows = open_duties(services)
    assert len(rows) >= 2
    first, *others = rows
    with services.transaction() as s:  # another worker marks the first duty before this batch commits
        assert store.mark_notices(s, first, ["reminder"], None, MONDAY)
    with services.transaction() as s:
        marked = store.mark_notices_many(s, [(r, ["reminder"], None) for r in rows], MONDAY)
    assert marked[0] is None  # its version moved: the other writer's mark stands
    assert all(m is not None and m.version == r.version + 1 and "reminder" in m.notices_done
               for m, r in zip(marked[1:], others, strict=True))
    after = {r.key: r for r in open_duties(services)}
    assert after[first.key].version == first.version + 1  # marked once, by the other writer
    assert all(after[r.key].version == r.version + 1 and after[r.key].next_notice_on is None for r in others)


def test_a_batch_no_one_else_touched_is_marked_whole(services: Services) -> None:
    Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sweep.sweep_due(services, MONDAY)
    rows = open_duties(services)
    with services.transaction() as s:
        marked = store.mark_notices_many(s, [(r, ["invitation", "reminder"], None) for r in rows], MONDAY)
    assert [m.version if m else None for m in marked] == [r.version + 1 for r in rows]
    assert [r.notices_done for r in open_duties(services)] == [m.notices_done for m in marked if m]
