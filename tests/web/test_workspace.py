"""The workspace as the care group's people use it: signing in (Argon2, HttpOnly cookies, failed logins slowed and
counted, idle sessions ended), an officer's forms (bad input refused at the field, what was typed kept, nothing
stored; a double submission recording one conversation), a practice that sees only its own, and the API."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pypdfium2 as pdfium
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from flows.services import accounts, queries
from flows.services.context import Services
from flows.services.settings import Settings
from tests.web.conftest import EIK, ESDOORN, LINDE, LOGINS, NOW, PASSWORD, csrf_of, sign_in

OTHERS = ("Praktijk De Eik", "De Esdoorn", EIK, ESDOORN, "HAGRO-OOST", "G. Peters")


def conversations_of(services: Services, agb: str) -> int:
    return len(queries.conversations(services, agb))


def test_signing_in_gives_an_httponly_samesite_cookie_secure_behind_tls(app_of: Callable[..., TestClient],
                                                                        workspace: Services) -> None:
    client = app_of()
    assert client.get("/overview").headers["location"] == "/login?next=/overview"
    assert client.get("/api/practices").status_code == 401
    token = client.get("/login").cookies.get("qc_login_csrf")
    done = client.post("/login", data={"username": "a.jansen", "password": PASSWORD, "login_token": token},
                       headers={"X-Forwarded-Proto": "https"})
    cookie = done.headers["set-cookie"]
    assert "qc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    with workspace.session() as s:  # only the token's hash is stored, the password only as an Argon2id hash
        from storage.tables import UserAccountRow, WebSessionRow

        assert s.get(UserAccountRow, "a.jansen").password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
        stored = [r.token_hash for r in s.exec(__import__("sqlmodel").select(WebSessionRow))]
    assert cookie.split("qc_session=")[1].split(";")[0] not in stored


def test_failed_logins_are_counted_and_the_account_locks_after_ten(app_of: Callable[..., TestClient],
                                                                   workspace: Services) -> None:
    client = app_of()
    for _ in range(10):
        token = client.get("/login").cookies.get("qc_login_csrf")
        refused = client.post("/login", data={"username": "bestuur", "password": "geraden wachtwoord",
                                              "login_token": token})
        assert refused.status_code == 401 and "onjuist" in refused.text
    assert accounts.failed_logins(workspace, "bestuur") == 10
    token = client.get("/login").cookies.get("qc_login_csrf")
    locked = client.post("/login", data={"username": "bestuur", "password": PASSWORD, "login_token": token})
    assert locked.status_code == 401 and "te veel mislukte pogingen" in locked.text
    later = app_of(clock=lambda: NOW + timedelta(minutes=16))
    sign_in(later, "bestuur")
    assert accounts.failed_logins(workspace, "bestuur") == 0


def test_a_login_form_without_its_token_and_a_change_without_csrf_are_refused(app_of: Callable[..., TestClient]
                                                                              ) -> None:
    client = app_of()
    assert client.post("/login", data={"username": "a.jansen", "password": PASSWORD}).status_code == 403
    officer = app_of("officer")
    refused = officer.post(f"/practices/{EIK}/support", data={"kind": "coaching", "on": "2026-05-08"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert officer.post("/api/practices/07654321/support", json={"kind": "coaching", "on": "2026-05-08"},
                        headers={"X-CSRF-Token": "verzonnen"}).status_code == 403


def test_an_idle_session_ends_and_a_disabled_account_is_signed_out(app_of: Callable[..., TestClient],
                                                                   workspace: Services) -> None:
    now = [NOW]
    client = app_of("officer", clock=lambda: now[0])
    assert client.get("/overview").status_code == 200
    now[0] = NOW + timedelta(minutes=31)
    assert client.get("/overview").status_code == 303
    sign_in(client, "a.jansen")
    accounts.disable_user(workspace, "a.jansen", now[0], "test")
    assert client.get("/overview").status_code == 303


def test_an_officer_records_the_extra_conversation_with_a_plan_and_the_state_changes(
        app_of: Callable[..., TestClient], workspace: Services) -> None:
    officer = app_of("officer")
    before = conversations_of(workspace, EIK)
    csrf = csrf_of(officer, f"/practices/{EIK}/conversation")
    form = {"csrf_token": csrf, "kind": "extra", "held_on": "2026-05-08", "programme": "",
            "attendees": "gp_principal=G. Peters\npoh_chronic=H. Vos", "summary": "Oproepsysteem besproken.",
            "agreements": "Recall-lijst HbA1c maandelijks nalopen\nPOH volgt de Caspir-cursus",
            "goals": "dm2/hba1c_measured 85 2026-12-31"}
    done = officer.post(f"/practices/{EIK}/conversation", data=form)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/practices/{EIK}")
    again = officer.post(f"/practices/{EIK}/conversation", data=form)  # a double click
    assert again.status_code == 303 and "al" in again.headers["location"]
    assert conversations_of(workspace, EIK) == before + 1  # once
    page = officer.get(f"/practices/{EIK}").text
    assert 'id="state">verbeterplan<' in page and "Recall-lijst HbA1c maandelijks nalopen" in page
    (conversation,) = [c for c in queries.conversations(workspace, EIK) if c.kind == "extra"]
    assert conversation.actor == "web:a.jansen"  # the change carries the signed-in user


def test_a_bad_conversation_form_is_refused_at_its_field_keeps_what_was_typed_and_stores_nothing(
        app_of: Callable[..., TestClient], workspace: Services) -> None:
    officer = app_of("officer")
    csrf = csrf_of(officer, f"/practices/{EIK}/conversation")
    base = {"csrf_token": csrf, "kind": "extra", "held_on": "2026-05-08", "attendees": "gp_principal=G. Peters",
            "summary": "Besproken.", "agreements": "Recall-lijst nalopen", "goals": "dm2/hba1c_measured 85 2026-12-31"}
    before = conversations_of(workspace, EIK)
    for field, value, words in (
            ("held_on", "2026-06-01", "ligt in de toekomst"),
            ("held_on", "31-02-2026", "datum ongeldig"),
            ("goals", "dm2/hba1c 85 morgen", "regel 1"),
            ("goals", "dm2/bestaat_niet 85 2026-12-31", "bestaat_niet"),
            ("attendees", "tandarts=X. Y", "regel 1"),
            ("summary", "Mevrouw met BSN 111222333 besproken", "BSN"),
            ("agreements", "Bel patiënt 111.222.333 terug", "BSN")):
        refused = officer.post(f"/practices/{EIK}/conversation", data={**base, field: value})
        assert refused.status_code == 400, (field, value)
        assert f'id="error-{field}"' in refused.text and words in refused.text, (field, value, refused.text[-1500:])
        if "111" not in value:
            assert value.replace("\n", "") in refused.text  # what was typed is kept
        assert "111222333" not in refused.text and "111.222.333" not in refused.text  # never a BSN back
    assert conversations_of(workspace, EIK) == before


def test_a_practice_sees_only_its_own_in_pages_api_pdfs_and_downloads(app_of: Callable[..., TestClient]) -> None:
    linde = app_of("practice")
    assert linde.get("/", follow_redirects=False).headers["location"] == f"/practices/{LINDE}"
    for url in (f"/practices/{EIK}", f"/practices/{EIK}/pack.pdf", f"/practices/{EIK}/indicators.xlsx",
                f"/practices/{EIK}/chart.svg", "/gp-groups/HAGRO-OOST", f"/api/practices/{EIK}", "/overview",
                "/board"):
        assert linde.get(url).status_code in (403, 404), url
    assert linde.get(f"/api/practices/{EIK}").status_code == 404
    assert [p["agb_code"] for p in linde.get("/api/practices").json()] == [LINDE]
    texts = [linde.get(f"/practices/{LINDE}").text, linde.get("/gp-groups/HAGRO-WEST").text,
             linde.get(f"/api/practices/{LINDE}").text, linde.get(f"/practices/{LINDE}/chart.svg").text]
    pdf = pdfium.PdfDocument(linde.get(f"/practices/{LINDE}/pack.pdf").content)
    texts += [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    book = load_workbook(io.BytesIO(linde.get(f"/practices/{LINDE}/indicators.xlsx").content))
    texts += [" ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value) for sheet in book]
    for text in texts:
        for other in OTHERS:
            assert other not in text, other
    assert "uw praktijk" in texts[1] and "praktijk B" in texts[1]  # the group's pack without the others' names


def test_the_board_page_lists_the_escalated_practice_with_its_reasons(app_of: Callable[..., TestClient]) -> None:
    board = app_of("board")
    assert board.get("/").headers["location"] == "/board"
    page = board.get("/board").text
    section = page.split(f'id="practice-{LINDE}"')[1].split("</section>")[0]
    assert "beleid minder presterende praktijken" in section
    assert "blijft meer dan 20,0% achter op het landelijk gemiddelde" in section
    assert board.get("/board/report.pdf?period=2026K1").headers["content-type"] == "application/pdf"
    assert board.get("/board/report.pdf?period=2026K9").status_code == 400
    assert board.get(f"/practices/{EIK}/conversation").status_code == 403  # the board reads, it does not record


def test_the_api_records_a_conversation_and_refuses_bad_input_with_the_field(app_of: Callable[..., TestClient],
                                                                             workspace: Services) -> None:
    officer = app_of("officer")
    headers = {"X-CSRF-Token": csrf_of(officer)}
    body = {"kind": "extra", "held_on": "2026-05-08", "attendees": [{"role": "gp_principal", "name": "G. Peters"}],
            "agreements": ["Recall-lijst nalopen"], "goals": [{"programme": "dm2", "indicator": "hba1c_measured",
                                                               "target": 85, "by": "2026-12-31"}]}
    refused = officer.post(f"/api/practices/{EIK}/conversations", json={**body, "held_on": "2027-01-01"},
                           headers=headers)
    assert refused.status_code == 422 and "held_on" in refused.json()["errors"]
    done = officer.post(f"/api/practices/{EIK}/conversations", json=body, headers=headers)
    assert done.status_code == 201 and done.json()["state"] == "improvement_plan"
    assert officer.post(f"/api/practices/{EIK}/conversations", json=body, headers=headers).json()[
        "already_recorded"] is True
    detail = officer.get(f"/api/practices/{EIK}").json()
    assert detail["state"] == "improvement_plan" and detail["agreements"][-1]["text"] == "Recall-lijst nalopen"


def test_the_user_commands_make_and_manage_accounts(app_of: Callable[..., TestClient], workspace: Services) -> None:
    assert set(LOGINS.values()) <= {a.login for a, _, _ in accounts.users(workspace)}
    import pytest

    from domain.accounts import AccountError, AccountRole

    with pytest.raises(AccountError, match="te kort"):
        accounts.add_user(workspace, "kort", AccountRole.OFFICER, "kort", NOW, "test")
    with pytest.raises(AccountError, match="--practice"):
        accounts.add_user(workspace, "zonder", AccountRole.PRACTICE, PASSWORD, NOW, "test")
    accounts.set_password(workspace, "eik", "een heel nieuw wachtwoord", NOW, "test")
    sign_in(app_of(), "eik", "een heel nieuw wachtwoord")


def test_an_officer_asks_for_support_and_records_it_given(app_of: Callable[..., TestClient],
                                                          workspace: Services) -> None:
    from flows.services import support

    officer = app_of("officer")
    csrf = csrf_of(officer, f"/practices/{EIK}")
    refused = officer.post(f"/practices/{EIK}/support",
                           data={"csrf_token": csrf, "kind": "coaching", "on": "2026-06-01"})
    assert refused.status_code == 400 and "ligt in de toekomst" in refused.text
    assert support.supports(workspace, EIK) == []
    assert officer.post(f"/practices/{EIK}/support", data={"csrf_token": csrf, "kind": "coaching",
                                                           "on": "2026-05-04"}).status_code == 303
    (asked,) = support.supports(workspace, EIK)
    done = officer.post(f"/practices/{EIK}/support/{asked.id}/complete",
                        data={"csrf_token": csrf, "on": "2026-05-07", "half_days": "2"})
    assert done.status_code == 303
    (given,) = support.supports(workspace, EIK)
    assert (given.status.value, given.done_on.isoformat() if given.done_on else None, given.half_days) == (
        "done", "2026-05-07", 2)
    assert "gegeven 7 mei 2026" in officer.get(f"/practices/{EIK}").text
    assert officer.get("/overview?officer=onbekend").text.count("<tr class=") == 0


def test_the_runs_page_links_a_run_prefect_ran_to_its_flow_run(workspace: Services, web_settings: Settings) -> None:
    from flows.services import duties, planning
    from flows.web.app import create_app

    by_flow = planning.plan_meetings(workspace, NOW - timedelta(days=7))  # as Prefect's flow would run it
    planning.plan_meetings(workspace, NOW)  # as the embedded runner or the CLI would
    assert duties.attach_flow_run(workspace, by_flow, "7f1c9a52-0000-4000-8000-000000000001")
    assert not duties.attach_flow_run(workspace, by_flow, "another")  # the first run named stays
    rerun = planning.plan_meetings(workspace, NOW - timedelta(days=7))
    assert rerun.already_ran and not duties.attach_flow_run(workspace, rerun, "rerun")
    settings = web_settings.model_copy(update={"prefect_ui_url": "http://prefect.zorggroep.example:4200"})
    client = TestClient(create_app(workspace, settings, lambda: NOW), follow_redirects=False)
    sign_in(client, LOGINS["officer"])
    page = client.get("/runs").text
    assert 'href="http://prefect.zorggroep.example:4200/runs/flow-run/7f1c9a52-0000-4000-8000-000000000001"' in page
    assert page.count("/runs/flow-run/") == 1  # the runs no flow ran name who ran them instead
