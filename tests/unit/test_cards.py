"""The instruction cards of the quality folder (seed section 3): which practice's folder is behind, since when, and
by when a practice should have it current, as pure rules."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.calendar import WorkingCalendar
from domain.cards import CardSet, FolderMark, Leaflet, behind_on, check_version, current_by, leaflets_for, standing
from domain.clock import AMSTERDAM
from domain.policy import Policy
from domain.vocabulary import Programme

LINDE, EIK = "01234567", "07654321"
AT = datetime(2026, 1, 5, 9, tzinfo=AMSTERDAM)


def published(version: str, on: date) -> CardSet:
    return CardSet(version=version, published_on=on, note=None, recorded_at=AT, actor="officer")


def marked(agb: str, version: str, on: date) -> FolderMark:
    return FolderMark(agb_code=agb, version=version, current_on=on, recorded_at=AT, actor="officer")


V1, V2 = published("2025.1", date(2025, 3, 3)), published("2026.1", date(2026, 3, 2))


def test_a_practice_that_never_marked_its_folder_is_behind_since_the_first_set() -> None:
    f = standing(LINDE, [V1, V2], [], date(2026, 3, 10))
    assert (f.version, f.latest, f.behind_since) == (None, "2026.1", date(2025, 3, 3))


def test_a_folder_current_with_the_older_set_is_behind_since_the_new_one_was_published() -> None:
    marks = [marked(LINDE, "2025.1", date(2025, 3, 20))]
    f = standing(LINDE, [V2, V1], marks, date(2026, 3, 10))
    assert (f.version, f.current_on, f.behind_since) == ("2025.1", date(2025, 3, 20), date(2026, 3, 2))
    assert behind_on(V2, LINDE, [V1, V2], marks, date(2026, 3, 10))
    assert not behind_on(V1, LINDE, [V1, V2], marks, date(2026, 3, 10))


def test_a_folder_marked_with_the_latest_set_is_current_and_a_day_before_it_counts_as_it_was() -> None:
    marks = [marked(LINDE, "2025.1", date(2025, 3, 20)), marked(LINDE, "2026.1", date(2026, 3, 16))]
    assert not standing(LINDE, [V1, V2], marks, date(2026, 3, 16)).behind
    assert standing(LINDE, [V1, V2], marks, date(2026, 3, 13)).behind_since == date(2026, 3, 2)
    assert not standing(LINDE, [V1, V2], marks, date(2026, 2, 1)).behind  # the new set was not out yet
    assert standing(EIK, [V1, V2], marks, date(2026, 3, 16)).behind  # another practice's mark is not its own


def test_nothing_published_means_nobody_is_behind() -> None:
    assert not standing(LINDE, [], [], date(2026, 3, 16)).behind


def test_the_deadline_is_the_policys_weeks_after_publication_pulled_back_to_a_working_day() -> None:
    calendar = WorkingCalendar()
    assert current_by(date(2026, 3, 2), Policy(), calendar) == date(2026, 4, 13)  # six weeks, a Monday
    # six weeks after 16 March 2026 is Monday 27 April, King's Day: the Friday before
    assert current_by(date(2026, 3, 16), Policy(), calendar) == date(2026, 4, 24)
    assert current_by(date(2026, 3, 2), Policy(cards_current_within_weeks=2), calendar) == date(2026, 3, 16)


def test_a_version_is_short_plain_text() -> None:
    assert check_version("2026.1") == "2026.1"
    for bad in ("", "versie 1", "a" * 40, "1\n2"):
        with pytest.raises(ValueError):
            check_version(bad)


def test_a_practice_gets_the_leaflets_of_its_own_programmes() -> None:
    register = [Leaflet(programme=Programme.COPD, title="Leven met COPD", url="https://cohaesie.example/copd"),
                Leaflet(programme=Programme.DM2, title="Voeten", url="https://cohaesie.example/voeten"),
                Leaflet(programme=Programme.DM2, title="Bewegen", url="https://cohaesie.example/bewegen")]
    assert [x.title for x in leaflets_for(register, [Programme.DM2])] == ["Bewegen", "Voeten"]
    with pytest.raises(ValueError):
        Leaflet(programme=Programme.DM2, title="x", url="javascript:alert(1)")
