"""The ids of stored rows (an obligation's, a conversation's, a step's and an event's) are ``uuid5`` of their keys, a
queued message's the moment it was queued and then its key's uuid5: ``domain.messages.uuid5_text`` writes them
without making a ``UUID``, and must write exactly what ``str(uuid.uuid5(...))`` writes, for every name, or a replayed
history would land on other rows."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import AMSTERDAM
from domain.messages import NAMESPACE, OutboxMessage, uuid5_text
from storage import repository
from storage.repository import outbox_id


def _names() -> list[str]:
    rng = random.Random(16)
    alphabet = "abcxyz0189:-_ @.éëÖü€漢😀\n\t"
    names = ["", "a", "conversation_invitation:01234567:annual:2025-03-04:j.ozturk@delinde.example",
             "obligation:meeting:poh_meeting:2026-02-10", "Jaël Öztürk", "x" * 10_000]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80))) for _ in range(2_000)]
    return names


def test_a_rows_id_is_written_exactly_as_uuid5_writes_it() -> None:
    for name in _names():
        assert uuid5_text(name) == str(uuid.uuid5(NAMESPACE, name)), repr(name)


def test_an_id_in_another_namespace_is_that_namespaces_uuid5() -> None:
    other = uuid.UUID("00000000-0000-0000-0000-000000000000")
    for name in _names()[:200]:
        assert uuid5_text(name, other) == str(uuid.uuid5(other, name)), repr(name)


def test_a_queued_messages_id_is_the_uuid5_of_its_key() -> None:
    message = OutboxMessage(key="training_due:01234567:x", kind="training_due", agb_code="01234567",
                            recipient_name="Jaël", recipient_email=None, recipient_role="poh_chronic", subject="s")
    assert uuid5_text(message.key) == str(message.id)
    assert uuid.UUID(uuid5_text(message.key)).version == 5


def test_a_name_that_is_not_utf8_is_refused_as_uuid5_refuses_it() -> None:
    """A lone surrogate cannot be encoded: both raise the same error, so no id is made for it either way."""
    for name in ("\ud800", "abc\udfff", "é" * 50_000 + "\ud83d"):
        try:
            uuid.uuid5(NAMESPACE, name)
        except UnicodeEncodeError as expected:
            with pytest.raises(UnicodeEncodeError) as refused:
                uuid5_text(name)
            assert (refused.value.encoding, refused.value.reason) == (expected.encoding, expected.reason)
        else:
            raise AssertionError(f"uuid5 took {name[-3:]!r}")


def test_a_queued_messages_row_id_follows_from_its_moment_and_key_and_grows_with_the_moments() -> None:
    """Ids that grow with the moments put each message's index entry at the index's end (issue 16); the same key at
    the same moment, in a replayed history or from a second worker, is the same row."""
    key = "conversation_invitation:01234567:annual:2025-03-04:j.ozturk@delinde.example"
    at = datetime(2025, 3, 3, 6, 0, tzinfo=AMSTERDAM)
    assert outbox_id(key, at) == outbox_id(key, at.astimezone(UTC)) == \
        f"20250303T050000-{uuid5_text(key).replace('-', '')[:20]}"
    assert len(outbox_id(key, at)) == 36 and outbox_id(key + "x", at) != outbox_id(key, at)
    moments = [at + timedelta(days=d, seconds=s) for d in range(0, 800, 7) for s in (0, 1, 3600)]
    ids = [outbox_id(name, moment) for moment in moments for name in _names()[:5]]
    assert sorted(ids, key=lambda i: i[:15]) == ids  # by moment: every later moment's ids sort after


def test_a_queued_messages_row_id_in_the_hour_the_clocks_go_back_is_its_own_moments_whatever_came_before() -> None:
    """02:30 summer time and 02:30 winter time on 2025-10-26 are an hour apart but equal as Amsterdam times (Python
    compares times of one zone by their wall clock): each message's id is its own moment's, whichever was seen
    first (found by the thirteenth round's review)."""
    summer = datetime(2025, 10, 26, 0, 30, tzinfo=UTC).astimezone(AMSTERDAM)
    winter = datetime(2025, 10, 26, 1, 30, tzinfo=UTC).astimezone(AMSTERDAM)
    assert summer == winter and summer.fold != winter.fold
    for first, second in ((summer, winter), (winter, summer)):
        repository._queued_at.cache_clear()
        ids = [outbox_id("k", first), outbox_id("k", second)]
        expected = [f"20251026T{hour}3000-" for hour in (("00", "01") if first is summer else ("01", "00"))]
        assert [i[:16] for i in ids] == expected
