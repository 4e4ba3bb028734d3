"""Delivering the outbox, over SQLite and PostgreSQL, to a real SMTP server on loopback and to ``.eml`` files:
each message exactly once as its recipient sees it, through refusals, outages, crashes and missing addresses."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlmodel import col
from typer.testing import CliRunner

from domain.clock import AMSTERDAM
from domain.messages import OutboxMessage
from domain.registry import CareGroup, Person, Practice, Registry, Role
from flows.cli.app import app
from flows.services import imports, outbox, queries
from flows.services.context import Services
from flows.services.outbox import DispatchReport, channel_from_settings, dispatch_outbox, held_by_practice
from flows.services.settings import Settings
from flows.testing.scenario import Scenario
from notifications.channels import Channel, DeliveryError, EmlFolderChannel, Rendered, SmtpChannel
from notifications.rendering import message_id, render, sample_messages
from storage import repository as repo
from storage.database import sqlite_url
from storage.tables import OutboxRow
from tests.mailserver import MailServer, closed_port, running_mailserver

LINDE, EIK = "01234567", "07654321"
FROM = "kwaliteit@cohaesie.example"
T = datetime(2025, 5, 5, 7, 30, tzinfo=AMSTERDAM)
BOARD = ["bestuur@cohaesie.example", "c.smit@cohaesie.example"]
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}


class SimulatedCrash(BaseException):
    """The dispatcher's process dies (not an error it could handle)."""


@dataclasses.dataclass
class CrashAfterSend:
    """Delivers the first message, then dies before the dispatcher can mark it sent."""

    inner: Channel
    crashed: bool = False

    def send(self, msg: EmailMessage) -> None:
        self.inner.send(msg)
        if not self.crashed:
            self.crashed = True
            raise SimulatedCrash


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with running_mailserver() as server:
        yield server


def smtp_channel(server: MailServer) -> SmtpChannel:
    return SmtpChannel(server.host, server.port, timeout=5)


def dispatch(services: Services, channel: Channel, at: datetime, **kw: Any) -> DispatchReport:
    return dispatch_outbox(services, channel, at, mail_from=FROM, **kw)


def outbox_rows(services: Services, **where: object) -> list[OutboxRow]:
    return sorted((m for m in queries.outbox_messages(services)
                   if all(getattr(m, name) == value for name, value in where.items())), key=lambda m: m.key)


def escalated(services: Services) -> Scenario:
    """De Linde agreed a plan on 2024-04-29 and is still far behind a year later: escalated on 2025-05-05."""
    sc = Scenario.build(services, f"""
        care_group: Cohaesie
        board: [B. de Vries <{BOARD[0]}>, C. Smit <{BOARD[1]}>]
        officers: [A. Jansen <a.jansen@cohaesie.example>]
        practices:
          "{LINDE}": {{name: Huisartsenpraktijk De Linde, gp_group: HAGRO-WEST, programmes: {{dm2: 2023-01-01}}}}
    """, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2024-03-31", {LINDE: {**GOOD, "dm2/hba1c_measured": 60}})
    sc.run("2024-04-08")
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    for quarter, value in zip(["2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31"], [61, 62, 63, 64],
                              strict=True):
        sc.scores(quarter, {LINDE: {**GOOD, "dm2/hba1c_measured": value}})
    report = sc.run("2025-05-05")
    assert [t.trigger.value for t in report.transitions] == ["escalate"]
    return sc


def registry(linde_email: str | None = "praktijk@delinde.example") -> Registry:
    """The people the sample messages are addressed to, and a second practice."""
    return Registry(
        care_group=CareGroup(name="Cohaesie", email="kwaliteit@cohaesie.example"),
        officers=(Person(name="A. Jansen", role=Role.OFFICER, email="a.jansen@cohaesie.example"),),
        board=(Person(name="B. de Vries", role=Role.BOARD, email=BOARD[0]),),
        practices=(
            Practice(agb_code=LINDE, name="Huisartsenpraktijk De Linde", gp_group=None, email=linde_email,
                     people=(Person(name="C. Bakker", role=Role.GP_PRINCIPAL, email="c.bakker@delinde.example"),
                             Person(name="D. Mulder", role=Role.POH_CHRONIC, email="d.mulder@delinde.example"))),
            Practice(agb_code=EIK, name="Praktijk De Eik", email="praktijk@deeik.example"),
        ),
    )


def queue(services: Services, *messages: OutboxMessage, at: datetime = T) -> None:
    with services.session() as s:
        repo.add_messages(s, messages, created_at=at)
        s.commit()


def progress_reports(count: int) -> list[OutboxMessage]:
    """``count`` progress reports to the board, keys in the order they are sent (oldest first, then by key)."""
    return [dataclasses.replace(sample_messages()["board_progress"], key=f"voortgang-{n:02d}") for n in range(count)]


def message_ids(server: MailServer, address: str) -> set[str]:
    return {str(r.message["Message-ID"]) for r in server.recorder.to(address)}


# --- the board hears of an escalation --------------------------------------------------------------


def test_board_hears_of_the_escalation_over_smtp_once_per_member(services: Services, smtp: MailServer) -> None:
    sc = escalated(services)
    report = dispatch(services, smtp_channel(smtp), T)
    assert len(report.sent) == 2 and not (report.retrying or report.failed or report.held)
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == BOARD
    rows = {r.recipient_email: r for r in outbox_rows(services, kind="board_escalation")}
    for address in BOARD:
        (received,) = smtp.recorder.to(address)
        msg, row = received.message, rows[address]
        assert msg["Subject"] == row.subject and "beleid minder presterende praktijken" in msg["Subject"]
        assert str(msg["From"]) == f"Cohaesie <{FROM}>" and msg["To"].addresses[0].addr_spec == address
        # the Message-ID follows from the key (the row's id also from the moment it was queued: repo.outbox_id)
        assert msg["Message-ID"] == message_id(row.key) == row.message_id
        body = cast(EmailMessage, msg.get_body(preferencelist=("plain",))).get_content()
        assert "Het bestuur van Cohaesie wordt geïnformeerd" in body
        assert "HbA1c bepaald in afgelopen 12 maanden (dm2/hba1c_measured): 64,0% (64/100)" in body
        assert "landelijk gemiddelde 92,0% (2024)" in body
        assert "loopt nu 1 jaar" in body and "van 60,0% (periode tot 31 maart 2024) naar 64,0%" in body
        assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, T, None)
    # the same moment again, for the engine and the dispatcher: nothing new, nothing sent again
    assert sc.run("2025-05-05").messages == 0
    assert dispatch(services, smtp_channel(smtp), T).nothing_to_do
    assert dispatch(services, smtp_channel(smtp), T + timedelta(days=1)).nothing_to_do
    assert len(smtp.received) == 2


def test_a_crash_between_sending_and_marking_leaves_each_board_member_one_message(
    services: Services, smtp: MailServer
) -> None:
    escalated(services)
    with pytest.raises(SimulatedCrash):
        dispatch(services, CrashAfterSend(smtp_channel(smtp)), T, reclaim_after=timedelta(minutes=10))
    (stranded,) = outbox_rows(services, status="sending")
    assert stranded.attempts == 1 and stranded.last_attempt_at == T  # the attempt was on record before sending
    assert stranded.lease_until is not None
    # a dispatcher right after the crash sends the rest; the stranded row waits until its lease has ended in
    # real time, however late a moment that dispatcher works for
    soon = dispatch(services, smtp_channel(smtp), T + timedelta(days=1))
    assert len(soon.sent) == 1 and soon.resent == []
    with services.session() as s:  # ten minutes of real time pass (the database's clock): the lease ends
        s.execute(sa.update(OutboxRow).where(col(OutboxRow.key) == stranded.key)
                  .values(lease_until=repo.database_now(s, -1)))
        s.commit()
    later = dispatch(services, smtp_channel(smtp), T + timedelta(minutes=10))
    assert later.resent == [stranded.key] == later.sent
    assert len(smtp.received) == 3  # one copy went out twice...
    for address in BOARD:  # ...but each member's mail client shows one message
        assert len(message_ids(smtp, address)) == 1
    assert {r.status for r in outbox_rows(services)} == {"sent"}
    assert dispatch(services, smtp_channel(smtp), T + timedelta(hours=1)).nothing_to_do


def test_every_board_notification_the_engine_queues_renders_and_goes_out(services: Services, tmp_path: Path) -> None:
    sc = escalated(services)
    sc.scores("2025-06-30", {LINDE: {**GOOD, "dm2/hba1c_measured": 64}})
    assert [t.trigger.value for t in sc.run("2025-08-11").transitions] == ["report_progress"]
    sc.scores("2025-09-30", {LINDE: {**GOOD, "dm2/hba1c_measured": 91}})
    assert [t.trigger.value for t in sc.run("2025-11-10").transitions] == ["recover"]
    channel = EmlFolderChannel(tmp_path / "outbox")
    report = dispatch(services, channel, datetime(2025, 11, 10, 8, 0, tzinfo=AMSTERDAM))
    assert len(report.sent) == 6 and not (report.retrying or report.failed or report.held)
    bodies = {}
    for file in channel.folder.glob("*.eml"):
        msg = cast(EmailMessage, email.message_from_bytes(file.read_bytes(), policy=email.policy.default))
        body = cast(EmailMessage, msg.get_body(preferencelist=("plain",))).get_content()
        bodies.setdefault(str(msg["X-Qualitycycle-Key"]).split(":")[0], set()).add(
            body.split("\n", 1)[1].split("Met vriendelijke groet")[0])  # between greeting and signature
    assert set(bodies) == {"board_escalation", "board_progress", "board_recovery"}
    assert all(len(texts) == 1 for texts in bodies.values())  # both members read the same text
    (progress,) = bodies["board_progress"]
    assert "Stand op 11 augustus 2025" in progress and "loopt nu 1 jaar en 3 maanden" in progress
    (recovery,) = bodies["board_recovery"]
    assert "voldoet de praktijk weer aan de streefwaarden" in recovery
    assert ("HbA1c bepaald in afgelopen 12 maanden (dm2/hba1c_measured): 91,0% (91/100) over de periode tot "
            "30 september 2025; streefwaarde 90,0%") in recovery


# --- refusals and outages ---------------------------------------------------------------------------


def test_refusing_server_is_retried_with_growing_backoff_then_given_up_as_failed(
    services: Services, smtp: MailServer
) -> None:
    imports.load_registry(services, registry())
    queue(services, sample_messages()["conversation_overdue"])
    smtp.recorder.refuse = 100
    at, waits = T, []
    for attempt in range(1, 6):
        report = dispatch(services, smtp_channel(smtp), at)
        (row,) = outbox_rows(services)
        assert row.attempts == attempt and "451" in (row.last_error or "")
        if attempt < 5:
            assert row.status == "pending" and row.next_attempt_at is not None
            assert dispatch(services, smtp_channel(smtp), row.next_attempt_at - timedelta(seconds=1)).nothing_to_do
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at
        else:
            assert report.failed and row.status == "failed" and row.next_attempt_at is None
            assert (row.last_error or "").startswith("opgegeven na 5 pogingen")
    assert waits == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert dispatch(services, smtp_channel(smtp), at + timedelta(days=1)).nothing_to_do
    assert smtp.recorder.refused == 5 and smtp.received == []
    assert [r.key for r in outbox_rows(services, status="failed")] == [row.key]


def test_a_crash_on_the_last_attempt_ends_in_failed_not_in_endless_resending(
    services: Services, smtp: MailServer
) -> None:
    imports.load_registry(services, registry())
    queue(services, sample_messages()["board_digest"])
    with pytest.raises(SimulatedCrash):
        dispatch(services, CrashAfterSend(smtp_channel(smtp)), T, max_attempts=1, reclaim_after=timedelta(0))
    report = dispatch(services, smtp_channel(smtp), T + timedelta(hours=1), max_attempts=1)
    (problem,) = report.failed
    assert "onderbroken" in problem.reason and report.sent == []
    (row,) = outbox_rows(services)
    assert (row.status, row.attempts) == ("failed", 1) and len(smtp.received) == 1


def test_a_dispatch_sends_its_messages_over_one_connection_to_the_mail_server(
    services: Services, smtp: MailServer
) -> None:
    imports.load_registry(services, registry())
    messages = progress_reports(5)
    queue(services, *messages)
    report = dispatch(services, smtp_channel(smtp), T)
    assert sorted(report.sent) == [m.key for m in messages] and len(smtp.received) == 5
    assert len({r.peer for r in smtp.received}) == 1


def test_a_server_that_refuses_twice_then_accepts_delivers_exactly_once(services: Services, smtp: MailServer) -> None:
    imports.load_registry(services, registry())
    queue(services, sample_messages()["meeting_invitation"])
    smtp.recorder.refuse = 2
    for minutes in (0, 5, 15, 35, 75):
        dispatch(services, smtp_channel(smtp), T + timedelta(minutes=minutes))
    (row,) = outbox_rows(services)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    (received,) = smtp.received
    assert received.rcpt_tos == ["d.mulder@delinde.example"]


def test_an_unreachable_server_loses_nothing_and_delivers_once_it_is_back(
    services: Services, smtp: MailServer
) -> None:
    imports.load_registry(services, registry())
    queue(services, sample_messages()["training_due"], sample_messages()["kit_refresh_due"])
    down = dispatch(services, SmtpChannel("127.0.0.1", closed_port(), timeout=2), T)
    assert len(down.retrying) == 2 and all("niet bereikbaar" in p.reason for p in down.retrying)
    assert {r.status for r in outbox_rows(services)} == {"pending"}
    back = dispatch(services, smtp_channel(smtp), T + timedelta(minutes=5))
    assert len(back.sent) == 2
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["d.mulder@delinde.example", "praktijk@delinde.example"]


# --- addresses --------------------------------------------------------------------------------------


def test_practice_without_address_waits_with_its_reason_and_an_officer_is_told_once(
    services: Services, smtp: MailServer
) -> None:
    imports.load_registry(services, registry(linde_email=None))
    queue(services, dataclasses.replace(sample_messages()["kit_refresh_due"], recipient_email=None))
    for hours in (0, 1, 24):
        report = dispatch(services, smtp_channel(smtp), T + timedelta(hours=hours))
        assert len(report.held) == 1 and report.sent == ([] if hours else [report.sent[0]])
    (held,) = outbox_rows(services, kind="kit_refresh_due")
    assert (held.status, held.attempts) == ("pending", 0)
    assert held.last_error == "geen e-mailadres bekend voor Huisartsenpraktijk De Linde (praktijk 01234567)"
    assert held_by_practice(services) == {LINDE: [f"kit_refresh_due: {held.last_error}"]}
    (notice,) = outbox_rows(services, kind="missing_address")
    assert (notice.status, notice.recipient_email) == ("sent", "a.jansen@cohaesie.example")
    (told,) = smtp.received
    body = cast(EmailMessage, told.message.get_body(preferencelist=("plain",))).get_content()
    assert "kan niet worden verstuurd" in body and held.last_error in body
    # the register gets the address: the waiting message goes out, to that address
    imports.load_registry(services, registry())
    assert len(dispatch(services, smtp_channel(smtp), T + timedelta(days=2)).sent) == 1
    assert smtp.received[-1].rcpt_tos == ["praktijk@delinde.example"]
    assert held_by_practice(services) == {}


def test_a_practices_message_never_goes_to_another_practices_address(services: Services, smtp: MailServer) -> None:
    imports.load_registry(services, registry())
    kit = sample_messages()["kit_refresh_due"]
    misaddressed = dataclasses.replace(kit, key="kit_refresh_due:to-the-practice",
                                       recipient_email="praktijk@deeik.example")
    stranger = dataclasses.replace(kit, key="kit_refresh_due:to-a-stranger", recipient_name="X. Onbekend",
                                   recipient_role="practice_manager", recipient_email="praktijk@deeik.example")
    queue(services, misaddressed, stranger)
    report = dispatch(services, smtp_channel(smtp), T)
    # the practice itself: the register's address wins over the one queued
    assert report.sent[0] == misaddressed.key and smtp.received[0].rcpt_tos == ["praktijk@delinde.example"]
    # someone the register does not know at De Linde: held, never sent to De Eik
    (problem,) = report.held
    assert problem.key == stranger.key
    assert "praktijk@deeik.example is niet geregistreerd bij praktijk 01234567" in problem.reason
    assert all("praktijk@deeik.example" not in r.rcpt_tos for r in smtp.received)
    assert outbox_rows(services, key=stranger.key)[0].status == "pending"


# --- the .eml folder --------------------------------------------------------------------------------


def test_without_smtp_settings_every_kind_lands_once_as_an_eml_file_even_after_a_crash(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("QC_SMTP_HOST", "QC_SETTINGS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    imports.load_registry(services, registry())
    samples = sample_messages()
    queue(services, *samples.values())
    channel = channel_from_settings(Settings(home=tmp_path / "var"))
    assert isinstance(channel, EmlFolderChannel) and channel.folder == tmp_path / "var" / "outbox"
    with pytest.raises(SimulatedCrash):  # its lease ended at once: the next dispatcher may take the row
        dispatch(services, CrashAfterSend(channel), T, reclaim_after=timedelta(0))
    dispatch(services, channel, T + timedelta(minutes=10))
    files = sorted(channel.folder.glob("*.eml"))
    assert len(files) == len(samples) == len(list(channel.folder.iterdir()))  # one file each, nothing left over
    rows = {r.key: r for r in outbox_rows(services)}
    assert {r.status for r in rows.values()} == {"sent"}
    for file in files:
        msg = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        row = rows[str(msg["X-Qualitycycle-Key"])]
        assert msg["Message-ID"] == row.message_id and msg["Subject"] == row.subject


# --- the command line -------------------------------------------------------------------------------


def test_staff_see_the_outbox_send_it_and_preview_every_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("QC_SMTP_HOST", "QC_SETTINGS_FILE", "QC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner, env = CliRunner(), {"QC_HOME": str(tmp_path / "var"), "QC_MAIL_FROM": FROM}

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, f"{args}: {result.output}{result.exception!r}"
        return result

    run("init")
    services = Services.open(sqlite_url(tmp_path / "var" / "qualitycycle.db"), upgrade=False)
    imports.load_registry(services, registry(linde_email=None))
    queue(services, sample_messages()["board_escalation"],
          dataclasses.replace(sample_messages()["kit_refresh_due"], recipient_email=None))
    services.db.dispose()
    pending = json.loads(run("outbox", "--json").stdout)
    assert [m["status"] for m in pending] == ["pending", "pending"]
    sent = run("send", "--now", "2025-05-05T07:30")
    assert "2 verzonden" in sent.stdout and "1 wachten op een e-mailadres" in sent.stdout  # the notice went too
    assert "geen e-mailadres bekend voor Huisartsenpraktijk De Linde" in sent.stderr
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == 2  # the escalation and the officer's notice
    waiting = json.loads(run("outbox", "--status", "pending", "--json").stdout)
    assert [(m["kind"], m["last_error"]) for m in waiting] == [
        ("kit_refresh_due", "geen e-mailadres bekend voor Huisartsenpraktijk De Linde (praktijk 01234567)")]
    table = run("outbox").stdout
    assert "instructiekoffer" in table and "(geen adres)" in table  # the kind by its Dutch name
    assert "wacht: 1, verzonden: 2" in table
    assert {m["kind"] for m in json.loads(run("outbox", "--status", "sent", "--json").stdout)} == {
        "board_escalation", "missing_address"}
    assert "--status 'bogus' onbekend" in run("outbox", "--status", "bogus", code=1).stderr
    shown = run("preview", "conversation_invitation").stdout
    assert "Onderwerp: Uitnodiging kwaliteitsjaargesprek" in shown and "[bijlage: uitnodiging.ics" in shown
    for kind in sample_messages():
        run("preview", kind, "--out", f"{kind}.eml")
        assert email.message_from_bytes(Path(f"{kind}.eml").read_bytes(), policy=email.policy.default)["From"]
    run("preview", "meeting_invitation", "--out", "overleg.ics")
    assert Path("overleg.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert "onbekende berichtsoort" in run("preview", "fax", code=1).stderr


# --- a large dispatch ---------------------------------------------------------------------------------


def test_a_large_dispatch_rendered_by_worker_processes_delivers_what_rendering_in_line_gives(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every kind three times over (one payload shared by three recipients, as an invitation's are), claimed in
    # chunks of seven that split such a group, and one message whose payload cannot be rendered
    monkeypatch.setattr(outbox, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outbox, "CHUNK", 7)

    def not_here(*_: object) -> None:
        raise AssertionError("rendered in the dispatcher, not by a worker")

    monkeypatch.setattr(outbox._Renderer, "_inline", not_here)
    imports.load_registry(services, registry())
    messages = [dataclasses.replace(m, key=f"{m.key}-{n}") for m in sample_messages().values() for n in range(3)]
    broken = dataclasses.replace(sample_messages()["board_left"], key="zonder-gegevens", payload={})
    queue(services, *messages, broken)
    channel = EmlFolderChannel(tmp_path / "outbox")
    report = dispatch(services, channel, T, workers=2)
    assert sorted(report.sent) == sorted(m.key for m in messages) and report.skipped == 0
    (problem,) = report.retrying
    assert problem.key == "zonder-gegevens" and "kon niet worden opgemaakt" in problem.reason
    rows = {r.key: r for r in outbox_rows(services)}
    assert {rows[m.key].status for m in messages} == {"sent"} and rows["zonder-gegevens"].status == "pending"
    for m in messages:  # byte for byte what the message renders to here, for the address it went to
        addressed = dataclasses.replace(m, recipient_email=rows[m.key].recipient_email)
        expected = Rendered.of(render(addressed, mail_from=FROM, now=T, care_group=registry().care_group.name))
        assert channel.path_for(expected).read_bytes() == expected.data
    assert len(list(channel.folder.glob("*.eml"))) == len(messages)


def test_a_renderer_worker_leaves_ctrl_c_to_the_dispatcher_and_loads_no_database() -> None:
    # a spawned worker imports what it is given to run: the rendering, not the dispatcher's services and storage
    # (0.63 s of imports a worker, every run that renders ahead, before its initializer moved beside render_all)
    from notifications.rendering import renderer_started

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=renderer_started) as pool:
        ignored = pool.submit(eval, "__import__('signal').getsignal(2) is __import__('signal').SIG_IGN").result()
        loaded = pool.submit(eval, "sorted(__import__('sys').modules)").result()
    assert ignored is True
    assert "notifications.rendering" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("sqlalchemy", "sqlmodel", "storage", "prefect")
                or m.startswith("flows.services")]


class SlowFolder:
    """A channel that takes 0.7 s a message; while sending the third, a second dispatcher starts."""

    def __init__(self, services: Services, folder: Path) -> None:
        self.services, self.inner, self.sends = services, EmlFolderChannel(folder), 0
        self.second: DispatchReport | None = None

    def send(self, msg: EmailMessage | Rendered) -> None:
        self.sends += 1
        time.sleep(0.7)
        if self.sends == 3:
            self.second = dispatch_outbox(self.services, self.inner, T, mail_from=FROM)
        self.inner.send(msg)


def test_a_chunk_still_sending_at_half_its_lease_holds_its_messages_from_a_second_dispatcher(
    services: Services, tmp_path: Path
) -> None:
    # claimed with a lease of 2 s; the third message is sent 2.1 s after the claim, when that lease has run out:
    # the lease of what was still to go was renewed after the second, so the second dispatcher takes none of it
    imports.load_registry(services, registry())
    messages = progress_reports(4)
    queue(services, *messages)
    channel = SlowFolder(services, tmp_path / "outbox")
    first = dispatch_outbox(services, channel, T, mail_from=FROM, reclaim_after=timedelta(seconds=2), workers=0)
    assert channel.second is not None and channel.second.sent == [] and channel.second.skipped == 0
    assert first.sent == [m.key for m in messages] and channel.sends == 4
    assert {r.status for r in outbox_rows(services)} == {"sent"}


def test_a_row_read_as_stranded_is_not_claimed_once_its_dispatcher_has_renewed_its_lease(services: Services) -> None:
    # dispatcher A claimed the message and stalled past its lease; B read it as stranded; A came back and renewed
    # its lease before B got to claim it: B must leave it to A, who is sending it
    imports.load_registry(services, registry())
    queue(services, sample_messages()["board_progress"])
    (row,) = outbox_rows(services)
    with services.session() as s:
        assert repo.claim_messages(s, [repo.Claim(row.id, "pending", 0, "m", "bestuur@cohaesie.example")], now=T,
                                   lease_seconds=0)
        s.commit()
    time.sleep(1.1)  # the lease is judged by the database's clock, in whole seconds on SQLite
    with services.session() as s:
        (stranded,) = repo.due_messages(s, T)
    assert (stranded.status, stranded.attempts) == ("sending", 1)
    with services.session() as s:
        assert repo.renew_claims(s, [(row.id, 1)], lease_seconds=300) == {row.id}
        s.commit()
    with services.session() as s:
        claim = repo.Claim(row.id, stranded.status, stranded.attempts, "m", "bestuur@cohaesie.example")
        assert repo.claim_messages(s, [claim], now=T, lease_seconds=300) == set()
        s.commit()
    (after,) = outbox_rows(services)
    assert (after.status, after.attempts) == ("sending", 1)


class CrashWhileWritingABatch(EmlFolderChannel):
    """Writes the files of its first batch, then dies before the dispatcher hears how they went."""

    def send_many(self, messages: Sequence[Rendered]) -> list[DeliveryError | None]:
        super().send_many(messages)
        raise SimulatedCrash


def test_files_written_a_batch_at_a_time_stay_claimed_when_the_process_dies_and_the_rest_is_released(
    services: Services, tmp_path: Path
) -> None:
    # twenty messages claimed in one chunk; the folder channel is handed sixteen at once and the process dies
    # while writing them: those sixteen may be on disk, so they stay claimed (sent again once the lease has ended,
    # into the same files); the four not yet handed over never left, so their claims are released
    imports.load_registry(services, registry())
    messages = progress_reports(20)
    queue(services, *messages)
    with pytest.raises(SimulatedCrash):
        dispatch(services, CrashWhileWritingABatch(tmp_path / "outbox"), T, workers=0)
    rows = outbox_rows(services)
    assert [(r.status, r.attempts) for r in rows] == [("sending", 1)] * outbox.BATCH + [("pending", 0)] * 4
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == outbox.BATCH
    with services.session() as s:  # the lease runs out
        s.execute(sa.update(OutboxRow).values(lease_until=repo.database_now(s, -1)))
        s.commit()
    channel = EmlFolderChannel(tmp_path / "outbox")
    again = dispatch(services, channel, T + timedelta(minutes=10), workers=0)
    assert sorted(again.sent) == [m.key for m in messages] and len(again.resent) == outbox.BATCH
    assert len(list(channel.folder.iterdir())) == 20 and {r.status for r in outbox_rows(services)} == {"sent"}


def test_due_messages_read_a_page_at_a_time_all_go_once_with_the_notices_queued_on_the_way(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pages of three rows, chunks of two; De Linde has no address, so some messages are held and the officers'
    # notices about them are queued while the dispatch runs, at its moment, before the messages queued an hour
    # later (an operator's earlier --now): they are read in a second pass and go in the same dispatch
    monkeypatch.setattr(outbox, "PAGE", 3)
    monkeypatch.setattr(outbox, "CHUNK", 2)
    imports.load_registry(services, registry(linde_email=None))
    samples = {kind: m for kind, m in sample_messages().items() if kind != "missing_address"}
    queue(services, *samples.values(), at=T + timedelta(hours=1))
    channel = EmlFolderChannel(tmp_path / "outbox")
    report = dispatch(services, channel, T)
    held = {p.key for p in report.held}
    notices = {r.key for r in outbox_rows(services) if r.kind == "missing_address"}
    assert held and notices and report.notices_queued == len(notices)
    assert sorted(report.sent) == sorted(({m.key for m in samples.values()} - held) | notices)
    assert len(list(channel.folder.glob("*.eml"))) == len(report.sent)
    again = dispatch(services, channel, T + timedelta(hours=1))
    assert again.sent == [] and {p.key for p in again.held} == held and again.notices_queued == 0


def test_an_invitations_pack_is_kept_once_for_its_recipients_and_each_receives_it_as_if_stored_with_each(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a conversation's invitation carries its pack (4-5 KB) to five or six people alike: the payload is kept once
    # (issue 16), and every reader of the outbox and every recipient's file are what a payload in each row gives
    imports.load_registry(services, registry())
    samples = sample_messages()
    invitation, reminder, course = (samples[k] for k in ("conversation_invitation", "conversation_reminder",
                                                         "training_due"))
    assert len(json.dumps(invitation.payload)) >= repo.SHARED_PAYLOAD_BYTES > len(json.dumps(course.payload))
    people = [("C. Bakker", "c.bakker@delinde.example", "gp_principal"),
              ("D. Mulder", "d.mulder@delinde.example", "poh_chronic"),
              ("A. Jansen", "a.jansen@cohaesie.example", "officer")]
    invited = [dataclasses.replace(invitation, key=f"{invitation.key}:{n}", recipient_name=name, recipient_email=to,
                                   recipient_role=role) for n, (name, to, role) in enumerate(people)]
    small = [dataclasses.replace(course, key=f"{course.key}:{n}") for n in range(2)]  # shared, but small
    messages = [*invited, *small, reminder]  # the reminder's pack is its own: one recipient
    queue(services, *messages)
    with services.session() as s:  # the same messages again (a retry, a second worker): nothing new
        assert repo.queue_messages(s, messages, T + timedelta(hours=1)) == set()
        s.commit()
    with services.db.connect() as c:
        stored = dict(c.execute(sa.text("SELECT key, payload_id FROM outbox")).all())
        kept = c.execute(sa.text("SELECT id FROM message_payload")).scalars().all()
        inline = dict(c.execute(sa.text("SELECT key, payload FROM outbox WHERE payload_id IS NOT NULL")).all())
    assert len(kept) == 1 and {stored[m.key] for m in invited} == set(kept)
    assert all(stored[m.key] is None for m in (*small, reminder))
    assert [json.loads(p) if isinstance(p, str) else p for p in inline.values()] == [{}, {}, {}]
    read = {m.key: m.payload for m in queries.outbox_messages(services)}
    assert read == {m.key: m.payload for m in messages}
    # delivered: the very files a database holding every payload in its own row gives
    monkeypatch.setattr(repo, "SHARED_PAYLOAD_BYTES", 1 << 30)
    elsewhere = Services.open(sqlite_url(tmp_path / "inline.db"))
    imports.load_registry(elsewhere, registry())
    queue(elsewhere, *messages)
    with elsewhere.db.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM message_payload")).scalar_one() == 0
    ours, theirs = EmlFolderChannel(tmp_path / "ours"), EmlFolderChannel(tmp_path / "theirs")
    assert sorted(dispatch(services, ours, T).sent) == sorted(dispatch(elsewhere, theirs, T).sent)
    files = sorted(p.name for p in ours.folder.glob("*.eml"))
    assert len(files) == len(messages) and files == sorted(p.name for p in theirs.folder.glob("*.eml"))
    assert all((ours.folder / f).read_bytes() == (theirs.folder / f).read_bytes() for f in files)
