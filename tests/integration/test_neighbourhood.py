"""The neighbourhood's elderly care (seed 5) through the service functions, over SQLite and PostgreSQL: a GP group's
network plan agreed, renewed and ended with its evaluation duty following it; a status of a day gone by shows what
was known then; and every kind of bad input refused whole, naming the field, with nothing stored."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from domain.errors import InFutureError, InputError, NotFoundError
from domain.neighbourhood import CountKind, NetworkMeetingKind, Partner, PartnerKind, Quarter
from domain.obligations import ObligationKind
from flows.services import neighbourhood, sweep
from flows.services.context import Services, UnknownPracticeError
from statemachines.network_plan import InvalidNetworkPlanChangeError
from tests.integration.test_duties import EIK, LINDE, at, care_group, obligations, outbox

PARTNERS = (Partner(name="Thuiszorg De Wijk", kind=PartnerKind.DISTRICT_NURSING),)
TABLES = ("core_team", "gpo_cadence", "neighbourhood_count", "network_plan_event", "network_plan", "obligation")


def rows(services: Services) -> dict[str, int]:
    with services.session() as s:
        return {t: s.connection().execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def evaluations(services: Services) -> list[tuple[str, str, str]]:
    return sorted((o.key.split(":", 2)[2], o.due_on.isoformat(), o.status)
                  for o in obligations(services, kinds=[ObligationKind.NETWORK_PLAN_EVALUATION]))


def test_a_renewed_plan_replaces_the_evaluation_owed_and_an_ended_one_owes_none(services: Services) -> None:
    care_group(services)
    neighbourhood.agree_network_plan(services, "HAGRO-WEST", PARTNERS, date(2024, 5, 6), at("2024-05-06", 12), "t")
    assert evaluations(services) == [("2024-05-06:1", "2025-05-06", "open")]
    wider = (*PARTNERS, Partner(name="Apotheek Centrum", kind=PartnerKind.PHARMACY))
    neighbourhood.agree_network_plan(services, "HAGRO-WEST", wider, date(2024, 9, 2), at("2024-09-02", 12), "t")
    assert evaluations(services) == [("2024-05-06:1", "2025-05-06", "cancelled"),
                                     ("2024-09-02:1", "2025-09-02", "open")]
    again = neighbourhood.evaluate_network_plan(services, "HAGRO-WEST", date(2025, 8, 25), "Goed op weg.",
                                                at("2025-08-25", 12), "t")
    same = neighbourhood.evaluate_network_plan(services, "HAGRO-WEST", date(2025, 8, 25), "Goed op weg.",
                                               at("2025-08-26", 12), "t")
    assert same == again and len(same.evaluations) == 1  # the same evaluation twice: recorded once
    neighbourhood.end_network_plan(services, "HAGRO-WEST", date(2025, 10, 1), "opgegaan in het regionale plan",
                                   at("2025-10-01", 12), "t")
    assert [status for *_, status in evaluations(services)] == ["cancelled", "done", "cancelled"]
    sweep.sweep_due(services, at("2026-08-01"))
    assert outbox(services, "network_plan_due") == []  # nothing owed, nothing sent
    # the status of a day gone by shows the plan as it stood then
    (then,) = neighbourhood.network_plans(services, "HAGRO-WEST", on=date(2025, 1, 10))
    assert (then.view.status.value, len(then.view.partners), then.evaluation_due) == ("agreed", 2, date(2025, 9, 2))
    stored, replayed = neighbourhood.replay_network_plan(services, "HAGRO-WEST")
    assert stored == replayed and replayed.status.value == "ended"


def test_counts_and_core_teams_of_a_day_gone_by_are_what_was_known_then(services: Services) -> None:
    care_group(services)
    neighbourhood.record_core_team(services, EIK, [("gp", "G. Peters")], date(2024, 4, 1), at("2024-04-01", 9), "t")
    neighbourhood.record_core_team(services, EIK, [("gp", "G. Peters"), ("nurse", "J. Bos"),
                                                   ("district_nurse", "W. de Vries")],
                                   date(2024, 6, 3), at("2024-06-03", 9), "t")
    neighbourhood.record_count(services, EIK, Quarter(2024, 2), CountKind.MDO, 2, at("2024-07-02", 9), "t")
    neighbourhood.record_count(services, EIK, Quarter(2024, 2), CountKind.MDO, 4, at("2024-07-09", 9), "t")
    may, july, later = (neighbourhood.neighbourhoods(services, date.fromisoformat(day), [EIK])[EIK]
                        for day in ("2024-05-15", "2024-07-03", "2024-07-10"))
    assert may.line_nl() == "kernteam onvolledig (mist POH of verpleegkundige, wijkverpleegkundige)"
    assert (july.line_nl(), later.mdo_held) == ("kernteam compleet (3); MDO 2 in 2024K2", 4)  # the later count stands


@pytest.mark.parametrize("attempt, error, field", [
    (lambda s: neighbourhood.record_core_team(s, LINDE, [("gp", "C. Bakker"), ("tandarts", "X")], date(2024, 4, 1),
                                              at("2024-04-02"), "t"), InputError, "--member"),
    (lambda s: neighbourhood.record_core_team(s, LINDE, [("gp", "C. Bakker 111222333")], date(2024, 4, 1),
                                              at("2024-04-02"), "t"), InputError, "--member gp"),
    (lambda s: neighbourhood.record_core_team(s, LINDE, [("gp", "C. Bakker")], date(2024, 4, 9),
                                              at("2024-04-02"), "t"), InFutureError, "--on"),
    (lambda s: neighbourhood.record_core_team(s, "09999999", [("gp", "C. Bakker")], date(2024, 4, 1),
                                              at("2024-04-02"), "t"), UnknownPracticeError, "09999999"),
    (lambda s: neighbourhood.set_gpo_cadence(s, LINDE, 0, date(2024, 4, 1), at("2024-04-02"), "t"), InputError,
     "--every-weeks"),
    (lambda s: neighbourhood.record_count(s, LINDE, Quarter(2024, 3), CountKind.GPO, 2, at("2024-04-02"), "t"),
     InFutureError, "--quarter 2024K3"),
    (lambda s: neighbourhood.record_count(s, LINDE, Quarter(2024, 1), CountKind.MDO, -1, at("2024-04-02"), "t"),
     InputError, "--count"),
    (lambda s: neighbourhood.agree_network_plan(s, "HAGRO-OOST", PARTNERS, date(2024, 4, 1), at("2024-04-02"), "t"),
     NotFoundError, "HAGRO-OOST"),
    (lambda s: neighbourhood.agree_network_plan(s, "HAGRO-WEST", (), date(2024, 4, 1), at("2024-04-02"), "t"),
     InputError, "--partners"),
    (lambda s: neighbourhood.agree_network_plan(s, "HAGRO-WEST", PARTNERS, date(2024, 4, 3), at("2024-04-02"), "t"),
     InFutureError, "--agreed-on"),
    (lambda s: neighbourhood.evaluate_network_plan(s, "HAGRO-WEST", date(2024, 4, 1), "Goed.", at("2024-04-02"),
                                                   "t"), InvalidNetworkPlanChangeError, "evalueren kan niet"),
    (lambda s: neighbourhood.hold_network_meeting(s, "HAGRO-WEST", NetworkMeetingKind.CASE_DISCUSSION,
                                                  date(2024, 4, 1), [(LINDE, "Z. Onbekend")], [], at("2024-04-02"),
                                                  "t"), NotFoundError, "--attended 01234567:Z. Onbekend"),
    (lambda s: neighbourhood.hold_network_meeting(s, "HAGRO-WEST", NetworkMeetingKind.CASE_DISCUSSION,
                                                  date(2024, 4, 1), [], [], at("2024-04-02"), "t",
                                                  minutes="mevrouw met BSN 111.222.333 besproken"),
     InputError, "--minutes"),
])
def test_bad_neighbourhood_input_is_refused_naming_the_field_and_nothing_is_stored(
        services: Services, attempt: object, error: type[Exception], field: str) -> None:
    care_group(services)
    before = rows(services)
    with pytest.raises(error) as refused:
        attempt(services)  # type: ignore[operator]
    assert field in str(refused.value)
    assert "111" not in str(refused.value).replace("01111111", "")  # a BSN is never repeated
    assert rows(services) == before


def test_a_partner_not_in_the_plan_is_refused_at_a_network_meeting(services: Services) -> None:
    care_group(services)
    neighbourhood.agree_network_plan(services, "HAGRO-WEST", PARTNERS, date(2024, 4, 1), at("2024-04-02"), "t")
    before = rows(services)
    with pytest.raises(NotFoundError, match="--partner Welzijn Oost: geen partner in het netwerkplan"):
        neighbourhood.hold_network_meeting(services, "HAGRO-WEST", NetworkMeetingKind.NETWORK_MEETING,
                                           date(2024, 4, 1), [(LINDE, "C. Bakker")], ["Welzijn Oost"],
                                           at("2024-04-02"), "t")
    assert rows(services) == before
