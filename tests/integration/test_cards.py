"""The instruction cards of the quality folder and the patient leaflets, over SQLite and PostgreSQL (seed section 3:
the care group publishes the cards, "de huisartsenpraktijk is zelf verantwoordelijk voor het actualiseren van deze
map"; the patient leaflets of its programmes are on its website): a new set published and every practice told
once, folders marked current, the practices still behind listed for the officers once the policy's weeks have
passed, the leaflets linked from the invitation to a conversation, and bad input refused whole."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.cards import Leaflet
from domain.errors import InputError, NotFoundError, QualityCycleError
from domain.vocabulary import Programme
from flows.services import cards, queries
from flows.services.cards import CardsConflictError, CardsInFutureError, UnknownCardsVersionError
from flows.services.context import Services, UnknownPracticeError
from flows.testing.scenario import Scenario
from tests.integration.test_support import at

LINDE, EIK, HOEVE = "01234567", "07654321", "01111111"
DESCRIPTION = f"""
care_group: Cohaesie
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
practices:
  "{LINDE}":
    name: Huisartsenpraktijk De Linde
    email: praktijk@delinde.example
    programmes: {{dm2: 2023-01-01, copd: 2023-01-01}}
    people:
      gp_principal: C. Bakker <c.bakker@delinde.example>
      poh_chronic: D. Mulder <d.mulder@delinde.example>
  "{EIK}":
    name: Praktijk De Eik
    email: praktijk@deeik.example
    programmes: {{dm2: 2023-01-01}}
  "{HOEVE}":
    name: Praktijk De Hoeve
    email: praktijk@dehoeve.example
    programmes: {{dm2: 2023-01-01}}
"""
NOTE = "Kaart inhalatie-instructie herzien naar de NHG-standaard astma; kaart voetonderzoek dm2 nieuw"


def messages(services: Services, kind: str) -> list[tuple[str | None, str | None]]:
    return sorted((m.agb_code, m.recipient_email) for m in queries.outbox_messages(services) if m.kind == kind)


def stored(services: Services) -> tuple[int, int, list[str]]:
    """What a refusal must leave as it was: the outbox, the sets published and every folder's version."""
    return (len(queries.outbox_messages(services)), len(cards.card_sets(services)),
            [f"{x.agb_code}:{x.standing.version}" for x in cards.folders(services, date(2100, 1, 1))])


def test_a_new_set_of_cards_reaches_every_practice_once_and_the_officers_hear_who_is_still_behind_after_six_weeks(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2025-01-06")
    sc.leave(HOEVE, "2025-06-30")  # stopped: no longer told
    first = cards.publish_cards(services, "2025.2", date(2025, 9, 1), at("2025-09-01"), "officer")
    assert (first.new, first.queued) == (True, 2)
    cards.mark_cards_current(services, LINDE, "2025.2", date(2025, 9, 15), at("2025-09-15"), "officer")
    cards.mark_cards_current(services, EIK, "2025.2", date(2025, 9, 22), at("2025-09-22"), "officer")

    published = cards.publish_cards(services, "2026.1", date(2026, 3, 2), at("2026-03-02"), "officer", note=NOTE)
    assert published.current_by == date(2026, 4, 13)  # six weeks (policy), a working day
    assert messages(services, "cards_published") == [
        (LINDE, "praktijk@delinde.example"), (LINDE, "praktijk@delinde.example"),
        (EIK, "praktijk@deeik.example"), (EIK, "praktijk@deeik.example")]  # once per set, to its own address
    told = next(m for m in queries.outbox_messages(services)
                if m.kind == "cards_published" and m.agb_code == EIK and m.payload["cards"]["version"] == "2026.1")
    assert told.payload["cards"]["note"] == NOTE and told.payload["folder_version"] == "2025.2"
    assert told.payload["current_by"] == "2026-04-13"
    again = cards.publish_cards(services, "2026.1", date(2026, 3, 2), at("2026-03-03"), "officer", note=NOTE)
    assert (again.new, again.queued) == (False, 0)  # published twice: nothing new

    cards.mark_cards_current(services, LINDE, "2026.1", date(2026, 3, 20), at("2026-03-23"), "officer")
    assert [(x.agb_code, x.standing.behind_since) for x in cards.folders(services, date(2026, 3, 23),
                                                                         behind_only=True)] == [
        (EIK, date(2026, 3, 2))]
    sc.sweep("2026-04-13")  # the deadline itself: De Eik still has the day
    assert messages(services, "cards_behind") == []
    report = sc.sweep("2026-04-14")
    assert report.queued["cards_behind"] == 2
    assert messages(services, "cards_behind") == [(None, "a.jansen@cohaesie.example"),
                                                  (None, "p.deboer@cohaesie.example")]
    behind = next(m for m in queries.outbox_messages(services) if m.kind == "cards_behind")
    assert [(b["practice"]["agb_code"], b["version"], b["behind_since"]) for b in behind.payload["practices"]] == [
        (EIK, "2025.2", "2026-03-02")]
    sc.sweep("2026-04-15")
    assert len(messages(services, "cards_behind")) == 2  # once per set

    status = {line.agb_code: line.as_json() for line in queries.status(services, now=at("2026-04-15"))}
    assert (status[EIK]["cards_version"], status[EIK]["cards_behind_since"]) == ("2025.2", "2026-03-02")
    assert (status[LINDE]["cards_version"], status[LINDE]["cards_behind_since"]) == ("2026.1", None)
    then = {line.agb_code: line.as_json() for line in queries.status(services, at("2026-03-01", 23))}
    assert (then[LINDE]["cards_version"], then[LINDE]["cards_behind_since"]) == ("2025.2", None)


def test_a_set_everyone_made_current_in_time_sends_the_officers_nothing(services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2026-01-05")
    cards.publish_cards(services, "2026.1", date(2026, 3, 2), at("2026-03-02"), "officer")
    for agb in (LINDE, EIK, HOEVE):
        cards.mark_cards_current(services, agb, "2026.1", date(2026, 4, 1), at("2026-04-01"), "officer")
    sc.sweep("2026-04-20")
    assert messages(services, "cards_behind") == []


@pytest.mark.parametrize(("call", "error", "field"), [
    (lambda s: cards.publish_cards(s, "2026.2", date(2026, 3, 9), at("2026-03-02"), "o"), CardsInFutureError,
     "--on"),
    (lambda s: cards.publish_cards(s, "2026.2", date(2026, 3, 2), at("2026-03-02"), "o",
                                   note="vraag over patiënt 111222333"), InputError, "--note"),
    (lambda s: cards.publish_cards(s, "versie twee", date(2026, 3, 2), at("2026-03-02"), "o"), InputError,
     "VERSIE"),
    (lambda s: cards.publish_cards(s, "2026.1", date(2026, 3, 3), at("2026-03-03"), "o"), CardsConflictError,
     "VERSIE"),
    (lambda s: cards.mark_cards_current(s, "09999999", "2026.1", date(2026, 3, 2), at("2026-03-02"), "o"),
     UnknownPracticeError, "09999999"),
    (lambda s: cards.mark_cards_current(s, LINDE, "2030.9", date(2026, 3, 2), at("2026-03-02"), "o"),
     UnknownCardsVersionError, "--version"),
    (lambda s: cards.mark_cards_current(s, LINDE, "2026.1", date(2026, 3, 5), at("2026-03-02"), "o"),
     CardsInFutureError, "--on"),
    (lambda s: cards.mark_cards_current(s, LINDE, "2026.1", date(2026, 2, 27), at("2026-03-02"), "o"),
     InputError, "--on"),
])
def test_bad_input_about_the_cards_is_refused_whole_with_the_field_named_and_nothing_stored(
        services: Services, call: object, error: type[QualityCycleError], field: str) -> None:
    Scenario.build(services, DESCRIPTION, start="2026-01-05")
    cards.publish_cards(services, "2026.1", date(2026, 3, 2), at("2026-03-02"), "officer")
    before = stored(services)
    with pytest.raises(error) as refused:
        call(services)  # type: ignore[operator]
    assert field in str(refused.value) and "111222333" not in str(refused.value)
    assert stored(services) == before
    assert issubclass(UnknownCardsVersionError, NotFoundError)


def test_the_invitation_to_a_conversation_links_the_patient_leaflets_of_the_practices_programmes(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    cards.import_leaflets(services, [
        Leaflet(programme=Programme.DM2, title="Diabetes type 2: wat kunt u zelf doen?",
                url="https://www.cohaesie.example/folders/dm2.pdf"),
        Leaflet(programme=Programme.COPD, title="Leven met COPD", url="https://www.cohaesie.example/folders/copd.pdf"),
        Leaflet(programme=Programme.ELDERLY, title="Thuis oud worden",
                url="https://www.cohaesie.example/folders/ouderen.pdf"),
    ], at("2024-01-02"), "officer")
    assert next(x.title for x in cards.leaflets(services)) == "Leven met COPD"  # by programme, then title
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.sweep("2024-01-22")  # the annual conversation planned
    annual = next(o for o in queries.obligations(services, LINDE, "open") if o.kind == "annual_conversation")
    assert annual.planned_on is not None
    sc.sweep(annual.planned_on - timedelta(days=services.policy.invitation_days_before))
    invitations = [m for m in queries.outbox_messages(services)
                   if m.kind == "conversation_invitation" and m.agb_code == LINDE]
    assert invitations
    for m in invitations:
        assert [x["title"] for x in m.payload["prepare"]["leaflets"]] == [
            "Leven met COPD", "Diabetes type 2: wat kunt u zelf doen?"]  # its programmes only, no elderly care
