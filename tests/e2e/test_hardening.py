"""Issue 11's defects, one scenario each, as a hostile or careless user met them (over SQLite and PostgreSQL
where they touch storage). The catalogue of ``tests/e2e/hostile`` tries every door with many more inputs; these
tests follow each defect to where it did harm: the event log, the outbox, the SMTP envelope, the sweep.

Data "stored before the guard" is built with ``model_construct``, as rows written by an earlier version load:
the product must stay safe with what is already in a care group's database.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import SQLModel
from typer.testing import CliRunner

from domain.clock import AMSTERDAM
from domain.commands import LeaveProgramme
from domain.conversations import Attendee, Goal, ImprovementPlan
from domain.inputs import InputError, check_email
from domain.messages import OutboxMessage
from domain.registry import CareGroup, Person, Practice, Programme, Registry, Role
from flows.cli.app import app
from flows.services import conversations, imports, sweep
from flows.services.context import Services
from flows.services.inbox import recalculate_from_inbox
from flows.services.outbox import REFUSED, dispatch_outbox
from flows.services.settings import SettingsError, load_settings, read_policy_file
from notifications.channels import Channel, SmtpChannel
from notifications.rendering import sample_messages
from readers.files import InputFileError, parse_plan, parse_practices, parse_registry, parse_scores
from storage import obligations as stored_obligations
from storage import repository as repo
from storage.database import create_db_engine
from tests.integration.test_duties import EIK, LINDE, at, care_group, extract_csv
from tests.mailserver import MailServer, running_mailserver

BSN = "111222333"  # passes the eleven-test
FROM = "kwaliteit@cohaesie.example"
T = datetime(2025, 5, 5, 7, 30, tzinfo=AMSTERDAM)


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with running_mailserver() as server:
        yield server


def every_row(services: Services) -> dict[str, list[str]]:
    with services.db.connect() as conn:
        return {table.name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
                for table in SQLModel.metadata.sorted_tables}


def message(key: str, name: str, address: str, *, agb: str = LINDE) -> OutboxMessage:
    """The sample reminder of a conversation, to a practice."""
    sample = sample_messages()["conversation_reminder"]
    payload = {**sample.payload, "practice": {**sample.payload["practice"], "agb_code": agb, "name": name}}
    return dataclasses.replace(sample, key=key, agb_code=agb, recipient_name=name, recipient_email=address,
                               payload=payload)


def queue(services: Services, *messages: OutboxMessage) -> None:
    with services.session() as s:
        repo.add_messages(s, messages, created_at=T)
        s.commit()


def old_registry(*, linde_name: str = "Huisartsenpraktijk De Linde", linde_email: str = "praktijk@delinde.example",
                 linde_start: date = date(2023, 1, 1)) -> Registry:
    """A registry as an earlier version stored it: De Linde's values never went through today's guard."""
    linde = Practice.model_construct(agb_code=LINDE, name=linde_name, gp_group=None, email=linde_email,
                                     programmes={Programme.DM2: linde_start}, people=())
    return Registry(
        care_group=CareGroup(name="Cohaesie", email="kwaliteit@cohaesie.example"),
        officers=(Person(name="A. Jansen", role=Role.OFFICER, email="a.jansen@cohaesie.example"),),
        practices=(linde, Practice(agb_code=EIK, name="Praktijk De Eik", email="praktijk@deeik.example",
                                   programmes={Programme.DM2: date(2023, 1, 1)})),
    )


# --- 1. a BSN typed into free text ---------------------------------------------------------------------------


def test_a_bsn_typed_into_a_reason_an_attendee_an_agreement_or_a_name_never_reaches_the_event_log(
    services: Services, tmp_path: Path
) -> None:
    care_group(services)
    before = every_row(services)
    with pytest.raises(InputError, match="BSN") as refused:
        conversations.leave(services, LeaveProgramme(LINDE, date(2024, 6, 1), f"verhuisd, zie dossier {BSN}"),
                            at("2024-06-04"), "user:a.jansen")
    assert BSN not in str(refused.value)
    for written in (BSN, "1112.22.333", "111 222 333", "111-222-333"):
        with pytest.raises(ValidationError, match="BSN"):
            Attendee(role=Role.GP_PRINCIPAL, name=f"C. Bakker {written}")
        with pytest.raises(ValidationError, match="BSN"):
            Person(name=f"C. Bakker ({written})", role=Role.GP_PRINCIPAL)
        with pytest.raises(ValidationError, match="BSN"):
            ImprovementPlan(goals=(Goal(programme=Programme.DM2, indicator="hba1c_measured", target=90,
                                        by=date(2025, 3, 15)),), agreements=(f"Recall van {written} nalopen",))
    plan = tmp_path / "plan.yaml"
    plan.write_text("goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}]\n"
                    f'agreements: ["Recall nalopen", "Bel patiënt {BSN} terug"]\n', encoding="utf-8")
    with pytest.raises(InputFileError) as in_file:
        parse_plan(plan)
    assert f"{plan}, kolom agreements[1]: bevat een nummer dat op een BSN lijkt" in str(in_file.value)
    assert BSN not in str(in_file.value)
    # numbers that are not a BSN stay welcome: an AGB code, a phone number, a date, nine digits failing the test
    Attendee(role=Role.GP_PRINCIPAL, name="C. Bakker (AGB 01234567, tel. 06-12345678, 2024-06-01, 123456789)")
    after = every_row(services)
    assert after == before
    assert not any(BSN in row for rows in after.values() for row in rows)


# --- 2. a line break in a name ------------------------------------------------------------------------------


def test_a_name_with_a_line_break_is_refused_and_one_stored_earlier_cannot_poison_the_outbox(
    services: Services, smtp: MailServer
) -> None:
    with pytest.raises(ValidationError, match="regeleinde"):
        Practice(agb_code=LINDE, name="Huisartsenpraktijk De Linde\r\nHuisartsen")
    poisoned = "De Linde\r\nBcc: iedereen@example.org"
    imports.load_registry(services, old_registry(linde_name=poisoned))
    queue(services, message("a-linde", poisoned, "praktijk@delinde.example"),
          message("b-eik", "Praktijk De Eik", "praktijk@deeik.example", agb=EIK))
    report = dispatch_outbox(services, SmtpChannel(smtp.host, smtp.port, timeout=5), T, mail_from=FROM)
    assert sorted(report.sent) == ["a-linde", "b-eik"] and not (report.failed or report.retrying)
    linde = smtp.recorder.to("praktijk@delinde.example")[0]
    assert linde.rcpt_tos == ["praktijk@delinde.example"] and "Bcc" not in linde.message
    assert "\n" not in str(linde.message["To"]) and "De Linde" in str(linde.message["To"])
    assert [r.rcpt_tos for r in smtp.received] == [["praktijk@delinde.example"], ["praktijk@deeik.example"]]


# --- 3. the SMTP password in the clear -----------------------------------------------------------------------


def test_an_smtp_password_never_travels_without_tls_unless_a_local_relay_is_allowed_explicitly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("QC_SETTINGS_FILE", "QC_SMTP_SECURITY", "QC_SMTP_ALLOW_PLAIN_AUTH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QC_SMTP_USER", "zorggroep")
    monkeypatch.setenv("QC_SMTP_PASSWORD", "geheim-wachtwoord")
    with pytest.raises(SettingsError, match="QC_SMTP_SECURITY=starttls of tls") as refused:
        load_settings()
    assert "geheim-wachtwoord" not in str(refused.value)
    monkeypatch.setenv("QC_SMTP_SECURITY", "starttls")
    assert load_settings().smtp_security == "starttls"
    with pytest.raises(ValueError, match="onversleuteld"):
        SmtpChannel("127.0.0.1", 2525, user="zorggroep", password="geheim-wachtwoord")
    monkeypatch.setenv("QC_SMTP_SECURITY", "none")
    monkeypatch.setenv("QC_SMTP_ALLOW_PLAIN_AUTH", "true")
    assert load_settings().smtp_allow_plain_auth
    with running_mailserver(login=("zorggroep", "geheim-wachtwoord")) as relay:  # a relay on this machine
        SmtpChannel(relay.host, relay.port, user="zorggroep", password="geheim-wachtwoord",
                    allow_plain_auth=True).send(_mail("praktijk@delinde.example"))
        assert len(relay.received) == 1


def _mail(to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = FROM, to, "proef"
    msg.set_content("proef")
    return msg


# --- 4. one far-future date ----------------------------------------------------------------------------------


def test_a_placeholder_date_is_refused_and_one_stored_earlier_stops_only_its_own_practice(services: Services) -> None:
    with pytest.raises(ValidationError, match="9999-12-31"):
        Practice(agb_code=LINDE, name="De Linde", programmes={Programme.DM2: date(9999, 12, 31)})
    imports.load_registry(services, old_registry(linde_start=date(9999, 12, 31)))
    report = sweep.sweep_due(services, at("2024-03-18"))
    assert [what for what, _ in report.failures] == [LINDE] and report.failed
    with services.session() as s:
        planned = {row.agb_code for row in stored_obligations.obligations(s)}
    assert EIK in planned and LINDE not in planned


def test_a_conversation_recorded_with_a_far_future_moment_is_refused_at_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15",
                                      "--now", "9999-12-31T12:00"], env={"QC_HOME": str(tmp_path / "var")})
    assert result.exit_code == 1 and "--now: datum 9999-12-31 valt buiten 1990-2100" in result.stderr
    assert not (tmp_path / "var" / "qualitycycle.db").exists() or "conversation" not in result.stdout


# --- 5. address injection ------------------------------------------------------------------------------------


def test_an_address_that_adds_a_recipient_is_refused_and_one_stored_earlier_is_held_not_sent(
    services: Services, smtp: MailServer
) -> None:
    injected = "praktijk@delinde.example>,<postmaster@cohaesie.example"
    for address in (injected, "praktijk@delinde.example, ik@elders.example", "a@b.example\r\nBcc: x@y.example"):
        with pytest.raises(ValueError, match="e-mailadres"):
            check_email(address)
    imports.load_registry(services, old_registry(linde_email=injected))
    queue(services, message("a-linde", "Huisartsenpraktijk De Linde", injected))
    report = dispatch_outbox(services, SmtpChannel(smtp.host, smtp.port, timeout=5), T, mail_from=FROM)
    assert report.sent == ["missing_address:01234567:practice:Huisartsenpraktijk De Linde:a.jansen@cohaesie.example"]
    (held,) = report.held
    assert held.key == "a-linde" and "onbruikbaar" in held.reason
    assert [r.rcpt_tos for r in smtp.received] == [["a.jansen@cohaesie.example"]]  # the officer, nobody else


# --- 6. inbox extracts of a period not yet ended -------------------------------------------------------------


def test_an_inbox_extract_named_for_a_period_not_yet_ended_is_refused_and_nothing_is_imported(
    services: Services, tmp_path: Path
) -> None:
    care_group(services)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "his_2099-03-31.csv").write_text(extract_csv({LINDE: 6, EIK: 10}), encoding="utf-8")
    before = every_row(services)
    report = recalculate_from_inbox(services, at("2025-01-13"), inbox)
    ((name, why),) = report.failures
    assert name == "his_2099-03-31.csv" and "2099-03-31" in why and "toekomst" in why
    after = every_row(services)
    assert after["indicator_score"] == before["indicator_score"]
    assert after["indicator_import"] == before["indicator_import"]


# --- 7. overlapping dispatchers ------------------------------------------------------------------------------


class SecondDispatcherMidSend:
    """While the first dispatcher is sending, a second one starts for a moment days later (another host's clock,
    or an operator's ``--now``): it must leave alone the message the first one holds."""

    def __init__(self, services: Services, server: MailServer) -> None:
        self.services, self.inner = services, SmtpChannel(server.host, server.port, timeout=5)
        self.second: Any = None

    def send(self, msg: EmailMessage) -> None:
        if self.second is None:
            self.second = dispatch_outbox(self.services, self.inner, T + timedelta(days=3), mail_from=FROM)
        self.inner.send(msg)


def test_a_second_dispatcher_with_a_later_moment_never_takes_a_message_another_is_sending(
    services: Services, smtp: MailServer
) -> None:
    queue(services, message("a-linde", "Huisartsenpraktijk De Linde", "praktijk@delinde.example"))
    imports.load_registry(services, old_registry())
    channel: Channel = SecondDispatcherMidSend(services, smtp)
    first = dispatch_outbox(services, channel, T, mail_from=FROM)
    assert first.sent == ["a-linde"]
    assert channel.second.sent == [] and channel.second.resent == []  # type: ignore[attr-defined]
    assert len(smtp.received) == 1


# --- 8. YAML bombs -------------------------------------------------------------------------------------------


def test_a_yaml_bomb_or_deep_nesting_is_refused_at_once_in_a_registry_or_a_policy(tmp_path: Path) -> None:
    laughs = tmp_path / "register.yaml"
    laughs.write_text('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                      + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                                for i in range(8)), encoding="utf-8")
    nested = tmp_path / "nested.yaml"
    nested.write_text("practices: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(InputFileError, match="verwijzingen"):
        parse_registry(laughs)
    with pytest.raises(InputFileError, match="niveaus diep"):
        parse_registry(nested)
    with pytest.raises(SettingsError, match="verwijzingen"):
        read_policy_file(laughs)
    with pytest.raises(SettingsError, match="niveaus diep"):
        read_policy_file(nested)
    assert time.perf_counter() - started < 5


# --- 9. mojibake ---------------------------------------------------------------------------------------------


def test_a_file_mixing_encodings_is_refused_where_it_mixes_and_a_windows_file_reads_right(tmp_path: Path) -> None:
    mixed = tmp_path / "praktijken.csv"
    mixed.write_bytes("agb_code,name\n01234567,Praktijk Ëlië\n".encode() + b"07654321,Praktijk Zo\xeb\n")
    with pytest.raises(InputFileError, match=r"praktijken.csv, rij 3: positie 21: het bestand mengt tekensets"):
        parse_practices(mixed)
    windows = tmp_path / "windows.csv"
    windows.write_bytes("agb_code,name\n01234567,Praktijk Ëlië\n".encode("cp1252"))
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes("agb_code,name\n01234567,Praktijk Ëlië\n".encode("utf-8-sig"))
    assert [p.name for p in parse_practices(windows)] == [p.name for p in parse_practices(utf8)] == ["Praktijk Ëlië"]


# --- 10. tracebacks instead of one line ----------------------------------------------------------------------


def test_counts_of_absurd_length_are_refused_with_row_and_column(tmp_path: Path) -> None:
    for count in ("12345678901234567890", "9" * 5000, "3000000000"):
        scores = tmp_path / "scores.csv"
        scores.write_text("agb_code,programme,indicator,period_end,numerator,denominator\n"
                          f"{LINDE},dm2,hba1c_measured,2024-03-31,60,{count}\n", encoding="utf-8")
        with pytest.raises(InputFileError, match=r"scores.csv, rij 2, kolom denominator: .*(te groot|hoogstens)"):
            parse_scores(scores, today=date(2024, 4, 5))


def test_a_name_that_looks_like_terminal_markup_is_shown_as_written(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register.yaml").write_text(
        'care_group: {name: Cohaesie}\npractices:\n  - {agb_code: "01234567", name: "Praktijk [/x] [bold]De Linde"}\n',
        encoding="utf-8")
    env = {"QC_HOME": str(tmp_path / "var")}
    runner = CliRunner()
    assert runner.invoke(app, ["load-registry", "register.yaml"], env=env).exit_code == 0
    status = runner.invoke(app, ["status"], env=env)
    assert status.exit_code == 0, status.output
    assert "Praktijk [/x] [bold]De Linde" in status.stdout


# --- 11. a database that never answers -----------------------------------------------------------------------


@pytest.fixture
def silent_database() -> Iterator[int]:
    """A port that accepts connections and never says a word, like a database behind a hung proxy."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_database_that_accepts_but_never_answers_is_given_up_within_the_connect_timeout(
    silent_database: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"QC_HOME": str(tmp_path / "var"), "QC_DB_CONNECT_TIMEOUT": "2",
           "QC_DATABASE_URL": f"postgresql://zorggroep@127.0.0.1:{silent_database}/kwaliteit"}
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["status"], env=env)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1 and "fout: database niet bereikbaar" in result.stderr, result.output
    assert elapsed < 20, f"gave up only after {elapsed:.0f} s"


@pytest.mark.postgres
def test_a_statement_that_runs_past_the_statement_timeout_is_cancelled(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QC_DATABASE_URL", postgres_database)
    monkeypatch.setenv("QC_DB_STATEMENT_TIMEOUT", "1")
    db = create_db_engine(load_settings().db_url())
    started = time.perf_counter()
    try:
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"), db.connect() as conn:
            conn.execute(sa.text("SELECT pg_sleep(10)"))
    finally:
        db.dispose()
    assert time.perf_counter() - started < 5


# --- 12. a permanent refusal, retried five times and told to nobody ------------------------------------------


def test_a_recipient_refused_for_good_is_not_retried_and_the_officers_hear_it_once(
    services: Services, smtp: MailServer
) -> None:
    imports.load_registry(services, old_registry())
    queue(services, message("a-linde", "Huisartsenpraktijk De Linde", "praktijk@delinde.example"))
    smtp.recorder.refuse, smtp.recorder.reply = 1, "550 5.1.1 mailbox bestaat niet"
    channel = SmtpChannel(smtp.host, smtp.port, timeout=5)
    first = dispatch_outbox(services, channel, T, mail_from=FROM)
    (held,) = first.held
    assert held.key == "a-linde" and held.reason.startswith(REFUSED) and "550" in held.reason
    assert first.notices_queued == 1 and not first.failed and smtp.recorder.refused == 1
    (notice,) = smtp.recorder.to("a.jansen@cohaesie.example")
    body = notice.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "weigert praktijk@delinde.example blijvend" in " ".join(body.split())
    for days in (1, 7, 30):  # not tried again at that address, the officers not told again
        later = dispatch_outbox(services, channel, T + timedelta(days=days), mail_from=FROM)
        assert later.sent == [] and later.notices_queued == 0 and [h.key for h in later.held] == ["a-linde"]
    assert smtp.recorder.refused == 1 and len(smtp.received) == 1
    # the registry gets the right address: the message goes, once
    imports.load_registry(services, old_registry(linde_email="secretariaat@delinde.example"))
    fixed = dispatch_outbox(services, channel, T + timedelta(days=31), mail_from=FROM)
    assert fixed.sent == ["a-linde"]
    assert [r.rcpt_tos for r in smtp.recorder.to("secretariaat@delinde.example")] == [["secretariaat@delinde.example"]]
