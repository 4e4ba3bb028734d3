"""One conversion of a moment at the edge: whatever type and zone a runner hands over, the product works with a
plain datetime in Europe/Amsterdam for the same instant, to the microsecond (issue 9: Prefect's own datetime
type lost its zone in arithmetic and stored every scheduled run's step an hour off)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pendulum
import pytest

from domain.clock import AMSTERDAM, MomentError, as_amsterdam, parse_moment

INSTANTS = [  # (what a runner hands over, the instant in UTC)
    (pendulum.datetime(2026, 1, 12, 5, 0, 0, tz="UTC"), datetime(2026, 1, 12, 5, 0, tzinfo=UTC)),  # winter
    (pendulum.datetime(2026, 7, 6, 6, 0, 12, 345678, tz="Europe/Amsterdam"),
     datetime(2026, 7, 6, 4, 0, 12, 345678, tzinfo=UTC)),  # summer, Amsterdam zone
    (datetime(2026, 7, 6, 8, 0, tzinfo=timezone(timedelta(hours=4))), datetime(2026, 7, 6, 4, 0, tzinfo=UTC)),
    (datetime(2026, 1, 12, 6, 0), datetime(2026, 1, 12, 5, 0, tzinfo=UTC)),  # naive: Amsterdam wall time
    (pendulum.naive(2026, 7, 6, 6, 0), datetime(2026, 7, 6, 4, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("given", "instant"), INSTANTS)
def test_every_moment_becomes_a_plain_amsterdam_datetime_of_the_same_instant(given: datetime,
                                                                              instant: datetime) -> None:
    moment = as_amsterdam(given)
    assert type(moment) is datetime and moment.tzinfo is AMSTERDAM
    assert moment == instant and moment.microsecond == instant.microsecond
    # arithmetic keeps the zone (pendulum's DateTime - timedelta was naive) and serialises the instant
    earlier = moment - timedelta(minutes=5)
    assert earlier.tzinfo is AMSTERDAM and earlier == instant - timedelta(minutes=5)
    assert datetime.fromisoformat(moment.isoformat()) == instant


def test_the_repeated_autumn_hour_keeps_which_of_the_two_it_was() -> None:
    first = as_amsterdam(pendulum.datetime(2026, 10, 25, 0, 30, tz="UTC"))
    second = as_amsterdam(pendulum.datetime(2026, 10, 25, 1, 30, tz="UTC"))
    assert (first.hour, first.minute) == (second.hour, second.minute) == (2, 30)
    assert first.utcoffset() == timedelta(hours=2) and second.utcoffset() == timedelta(hours=1)
    assert second.timestamp() - first.timestamp() == 3600


def test_a_typed_moment_is_read_as_amsterdam_time_unless_it_says_otherwise() -> None:
    assert parse_moment("2025-06-02T06:00") == datetime(2025, 6, 2, 4, 0, tzinfo=UTC)
    assert parse_moment("2025-06-02T06:00:32") == datetime(2025, 6, 2, 4, 0, 32, tzinfo=UTC)
    assert parse_moment(" 2025-12-01T06:00:00Z ") == datetime(2025, 12, 1, 6, 0, tzinfo=UTC)
    assert parse_moment("2025-12-01") == datetime(2025, 12, 1, 0, 0, tzinfo=AMSTERDAM)
    with pytest.raises(MomentError, match="onleesbaar"):
        parse_moment("maandag")
