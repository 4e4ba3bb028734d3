"""Rendering every kind of message in Dutch, the calendar invite, and the two channels that carry them:
a real SMTP server on loopback (aiosmtpd, also with STARTTLS, TLS and a login) and ``.eml`` files."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import os
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import icalendar
import pytest
from pydantic import SecretStr

from domain.clock import AMSTERDAM
from domain.messages import OutboxMessage
from flows.services.outbox import channel_from_settings
from flows.services.settings import Settings
from notifications import channels
from notifications.channels import (
    DeliveryError,
    EmlFolderChannel,
    Rendered,
    SmtpChannel,
    eml_name,
    message_bytes,
    send_all,
)
from notifications.rendering import KINDS, TEMPLATES, RenderError, message_id, render, sample_messages
from tests.mailserver import MailServer, closed_port, running_mailserver

NOW = datetime(2025, 10, 6, 7, 0, tzinfo=AMSTERDAM)
FROM = "kwaliteit@cohaesie.example"
TRANSPORT_HEADERS = {"received", "return-path", "x-peer", "x-mailfrom", "x-rcptto"}


@pytest.fixture
def smtp() -> Any:
    with running_mailserver() as server:
        yield server


def sample(which: str, **changes: Any) -> OutboxMessage:
    return dataclasses.replace(sample_messages()[which], **changes)


def parsed(data: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(data, policy=email.policy.default))


def text_of(msg: EmailMessage, subtype: str = "plain") -> str:
    body = msg.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())


def calendar_of(msg: EmailMessage) -> icalendar.Calendar:
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "uitnodiging.ics"
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


def comparable(msg: EmailMessage) -> tuple[list[tuple[str, str]], list[tuple[str, bytes]]]:
    """A message as a reader sees it: headers (without transport headers) and each part's decoded content."""
    headers = [(k.lower(), str(v)) for k, v in msg.items() if k.lower() not in TRANSPORT_HEADERS]
    parts = []
    for part in msg.walk():
        if not part.is_multipart():
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            parts.append((part.get_content_type(), data))
    return headers, parts


# --- templates --------------------------------------------------------------------------------------


def test_every_kind_has_a_text_and_an_html_template_and_a_sample() -> None:
    assert set(sample_messages()) == set(KINDS)
    for kind in KINDS:
        assert (TEMPLATES / f"{kind}.txt.j2").is_file() and (TEMPLATES / f"{kind}.html.j2").is_file()
    own = {p.name.split(".")[0] for p in TEMPLATES.glob("*.j2") if not p.name.startswith("_")}
    assert own == set(KINDS), "a template without a kind (or a kind without a sample) slipped in"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_its_sample_as_dutch_text_and_html(kind: str) -> None:
    message = sample_messages()[kind]
    msg = parsed(message_bytes(render(message, mail_from=FROM, now=NOW)))
    text, html = text_of(msg), text_of(msg, "html")
    assert text.startswith("Beste ") and "Met vriendelijke groet" in text and "Dit bericht is bestemd voor" in text
    assert '<html lang="nl">' in html and "Met vriendelijke groet" in html
    for rendered in (text, html):
        assert "{{" not in rendered and "{%" not in rendered and "None" not in rendered
    assert msg["Subject"] == message.subject and msg["To"].addresses[0].addr_spec == message.recipient_email
    assert msg["Content-Language"] == "nl" and msg["Auto-Submitted"] == "auto-generated"
    kinds = [p.get_content_type() for p in msg.walk()]
    assert kinds[:4] == (["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
                         if len(kinds) > 3 else kinds)
    assert ("text/calendar" in kinds) == (kind in ("conversation_invitation", "meeting_invitation",
                                                   "mirror_meeting_invitation"))
    assert ("image/svg+xml" in kinds) == bool(message.payload.get("chart_svg"))


def test_a_missing_payload_field_is_an_error_never_a_silent_gap() -> None:
    invitation = sample("conversation_invitation")
    without_practice_name = {**invitation.payload, "practice": {"agb_code": "01234567"}}
    with pytest.raises(RenderError, match="conversation_invitation"):
        render(dataclasses.replace(invitation, payload=without_practice_name), mail_from=FROM, now=NOW)
    without_conversation = {k: v for k, v in invitation.payload.items() if k != "conversation"}
    with pytest.raises(RenderError):
        render(dataclasses.replace(invitation, payload=without_conversation), mail_from=FROM, now=NOW)
    with pytest.raises(RenderError, match="onbekende berichtsoort"):
        render(sample("kit_refresh_due", kind="fax_due"), mail_from=FROM, now=NOW)


def test_html_escapes_what_the_payload_says_and_the_text_keeps_it() -> None:
    escalation = sample("board_escalation")
    payload = {**escalation.payload, "practice": {**escalation.payload["practice"], "name": "De <b>Eik</b> & Zn"}}
    msg = render(dataclasses.replace(escalation, payload=payload), mail_from=FROM, now=NOW)
    assert "De &lt;b&gt;Eik&lt;/b&gt; &amp; Zn" in text_of(msg, "html")
    assert "De <b>Eik</b> & Zn" in text_of(msg)


def test_people_are_addressed_by_their_role_as_the_glossary_names_it() -> None:
    texts = {kind: text_of(render(m, mail_from=FROM, now=NOW)) for kind, m in sample_messages().items()}
    assert "C. Bakker, praktijkhoudende huisarts van Huisartsenpraktijk De Linde" in texts["conversation_invitation"]
    assert "- D. Mulder, praktijkondersteuner chronische zorg" in texts["conversation_invitation"]
    assert "- E. Kok, praktijkondersteuner ouderenzorg" in texts["conversation_invitation"]
    assert "twee functionarissen" in texts["conversation_invitation"]
    assert "als praktijkondersteuner chronische zorg van Huisartsenpraktijk De Linde" in texts["training_due"]
    assert "B. de Vries, lid van het bestuur" in texts["board_escalation"]
    assert "A. Jansen, functionaris van Cohaesie" in texts["conversation_overdue"]
    assert texts["kit_refresh_due"].startswith("Beste collega's van Huisartsenpraktijk De Linde,")
    assert "POH-overleg" in texts["meeting_invitation"] and "instructiekoffer insuline" in texts["kit_refresh_due"]


def test_board_escalation_names_practice_indicators_values_plan_duration_and_improvement() -> None:
    text = text_of(render(sample("board_escalation"), mail_from=FROM, now=NOW, care_group="Cohaesie"))
    assert "Huisartsenpraktijk De Linde (AGB-code 01234567, huisartsengroep HAGRO-WEST)" in text
    assert "beleid minder presterende praktijken" in text and "met ingang van 5 mei 2025" in text
    assert "dm2/hba1c_measured: 64,0% (64/100)" in text and "landelijk gemiddelde 92,0% (2024), grens 73,6%" in text
    assert "afgesproken en loopt nu 1 jaar" in text
    assert "van 60,0% (periode tot 31 maart 2024) naar 64,0%, +4,0 procentpunt" in text
    assert "Het bestuur van Cohaesie" in text


def test_message_id_and_bytes_follow_the_key_and_the_date_is_the_moment_given() -> None:
    message = sample("board_escalation")
    first = render(message, mail_from=FROM, now=NOW)
    again = render(message, mail_from=FROM, now=NOW)
    assert message_bytes(first) == message_bytes(again)  # boundaries, ids and the invite are all stable
    assert first["Message-ID"] == message_id(message.key) == f"<{message.id}@qualitycycle>"
    assert first["X-Qualitycycle-Key"] == message.key
    assert parsed(message_bytes(first))["Date"].datetime == NOW
    other = render(dataclasses.replace(message, key=message.key + "x"), mail_from=FROM, now=NOW)
    assert other["Message-ID"] != first["Message-ID"]
    assert first["From"].addresses[0].addr_spec == FROM


@pytest.mark.parametrize("subject", [
    "Praktijk Huisartsenpraktijk De Linde (01234567) heeft de kwaliteitscyclus verlaten tijdens het verbetertraject",
    "Verbetertraject van Huisartsenpraktijk Zoë beëindigd na één jaar en vijf maanden, zonder herstel van de cijfers",
])
def test_long_and_non_ascii_headers_read_back_exactly(subject: str) -> None:
    message = sample("board_left", subject=subject, recipient_name="Zoë van den Broeck")
    msg = parsed(message_bytes(render(message, mail_from=FROM, now=NOW)))
    assert msg["Subject"] == subject and msg["X-Qualitycycle-Key"] == message.key
    assert msg["To"].addresses[0].display_name == "Zoë van den Broeck"
    assert all(len(line) <= 998 for line in message_bytes(render(message, mail_from=FROM, now=NOW)).split(b"\r\n"))


def test_a_message_without_recipient_address_is_not_rendered_to_nobody() -> None:
    with pytest.raises(RenderError, match="geen e-mailadres bekend"):
        render(sample("kit_refresh_due", recipient_email=None), mail_from=FROM, now=NOW)


# --- the calendar invite ----------------------------------------------------------------------------


def test_conversation_invitation_carries_an_ics_at_the_conversation_time_in_amsterdam() -> None:
    msg = render(sample("conversation_invitation"), mail_from=FROM, now=NOW)
    cal = calendar_of(msg)
    assert str(cal["METHOD"]) == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2025, 11, 4, 14, 0, tzinfo=AMSTERDAM)
    assert event["DTEND"].dt == datetime(2025, 11, 4, 15, 30, tzinfo=AMSTERDAM)
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert event["DTSTAMP"].dt == NOW.astimezone(UTC)
    assert str(event["SUMMARY"]) == "Kwaliteitsjaargesprek Huisartsenpraktijk De Linde"
    assert "praktijkhoudende huisarts" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:a.jansen@cohaesie.example"
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert attendees["mailto:c.bakker@delinde.example"]["CN"] == "C. Bakker (praktijkhoudende huisarts)"
    assert attendees["mailto:c.bakker@delinde.example"]["ROLE"] == "REQ-PARTICIPANT"
    assert len(attendees) == 4  # E. Kok has no address: named in the description, not invited by mail
    # the same conversation for another attendee lands on the same calendar entry
    other = sample("conversation_invitation", key="conversation_invitation:x:d.mulder", recipient_name="D. Mulder",
                   recipient_email="d.mulder@delinde.example", recipient_role="poh_chronic")
    (other_event,) = calendar_of(render(other, mail_from=FROM, now=NOW)).walk("VEVENT")
    assert other_event["UID"] == event["UID"]


def test_recipients_of_one_invitation_share_its_invite_and_each_gets_what_it_would_get_alone() -> None:
    # an invite is made once per invitation and remembered (issue 16): a recipient outside its attendees still gets
    # one with itself added, a changed invitation a new one, and each is what rendering it first would give
    from notifications import mime, rendering

    invitation = sample("conversation_invitation")
    outsider = dataclasses.replace(invitation, key="conversation_invitation:x:p.smit", recipient_name="P. Smit",
                                   recipient_email="p.smit@elders.example", recipient_role="officer")
    moved = dataclasses.replace(invitation, payload={**invitation.payload, "calendar_sequence": 1})

    def written(messages: list[OutboxMessage]) -> list[bytes]:
        done = rendering.render_all(messages, mail_from=FROM, now=NOW)
        assert all(isinstance(r, Rendered) for r in done)
        return [cast(Rendered, r).data for r in done]

    def made_alone(message: OutboxMessage) -> bytes:
        rendering._invite.cache_clear()
        mime._base64.cache_clear()
        return written([message])[0]

    alone = [made_alone(m) for m in (invitation, outsider, moved)]
    assert written([invitation, outsider, moved, invitation]) == [*alone, alone[0]]
    assert alone[0] == message_bytes(render(invitation, mail_from=FROM, now=NOW))  # as the email package writes it
    first, second = (calendar_of(parsed(data)) for data in alone[:2])
    assert "mailto:p.smit@elders.example" not in {str(a) for a in first.walk("VEVENT")[0]["ATTENDEE"]}
    assert "mailto:p.smit@elders.example" in {str(a) for a in second.walk("VEVENT")[0]["ATTENDEE"]}
    assert int(calendar_of(parsed(alone[2])).walk("VEVENT")[0]["SEQUENCE"]) == 1


def test_the_invites_timezone_agrees_with_the_amsterdam_rules_in_summer_and_winter() -> None:
    meeting = sample("meeting_invitation")
    summer = {**meeting.payload, "meeting": {**meeting.payload["meeting"], "start": "2026-06-10T19:00:00+02:00",
                                             "end": "2026-06-10T21:00:00+02:00"}}
    cal = calendar_of(render(dataclasses.replace(meeting, payload=summer), mail_from=FROM, now=NOW))
    (tz,) = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/Amsterdam"
    rules = tz.to_tz()
    for moment in (datetime(2026, 6, 10, 19), datetime(2026, 1, 14, 19), datetime(2027, 10, 31, 12)):
        assert rules.utcoffset(moment) == moment.replace(tzinfo=AMSTERDAM).utcoffset()
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].dt.utcoffset().total_seconds() == 7200
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2026, 6, 10, 17, 0, tzinfo=UTC)


# --- channels ---------------------------------------------------------------------------------------


def test_smtp_delivery_is_received_with_subject_recipient_dutch_body_and_a_valid_ics(smtp: MailServer) -> None:
    message = sample("conversation_invitation")
    SmtpChannel(smtp.host, smtp.port).send(render(message, mail_from=FROM, now=NOW, care_group="Cohaesie"))
    (received,) = smtp.received
    assert received.rcpt_tos == ["c.bakker@delinde.example"] and received.mail_from == FROM
    msg = received.message
    assert msg["Subject"] == "Uitnodiging kwaliteitsjaargesprek Huisartsenpraktijk De Linde, dinsdag 4 november 2025"
    assert str(msg["From"]) == f"Cohaesie <{FROM}>"
    assert "Graag nodigen wij u uit voor het kwaliteitsjaargesprek" in text_of(msg)
    assert "Wanneer: dinsdag 4 november 2025 om 14:00 tot 15:30" in text_of(msg)
    (event,) = calendar_of(msg).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2025, 11, 4, 14, 0, tzinfo=AMSTERDAM)


def test_eml_file_carries_the_same_message_as_smtp_delivered(smtp: MailServer, tmp_path: Path) -> None:
    msg = render(sample("meeting_invitation"), mail_from=FROM, now=NOW)
    SmtpChannel(smtp.host, smtp.port).send(msg)
    folder = EmlFolderChannel(tmp_path / "outbox")
    folder.send(msg)
    (file,) = (tmp_path / "outbox").iterdir()
    assert file.name == eml_name(msg["X-Qualitycycle-Key"])
    (received,) = smtp.received
    assert comparable(parsed(file.read_bytes())) == comparable(received.message)
    assert file.read_bytes().rstrip(b"\r\n") == received.content.rstrip(b"\r\n")


def test_eml_folder_writes_atomically_and_the_same_message_again_replaces_its_file(tmp_path: Path) -> None:
    channel = EmlFolderChannel(tmp_path / "outbox")
    first = render(sample("board_escalation"), mail_from=FROM, now=NOW)
    channel.send(first)
    channel.send(render(sample("board_escalation"), mail_from=FROM, now=NOW.replace(hour=9)))  # a resend
    channel.send(render(sample("board_progress"), mail_from=FROM, now=NOW))
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files), files  # no temporary files left behind
    again = parsed(channel.path_for(first).read_bytes())
    assert again["Message-ID"] == first["Message-ID"] and again["Date"].datetime.hour == 9
    assert eml_name("a:b/c\\d e") != eml_name("a:b/c\\d_e")  # readable names never collide


def test_files_written_several_at_once_are_each_what_one_write_gives_and_one_that_fails_fails_alone(
    tmp_path: Path
) -> None:
    messages = [Rendered.of(render(sample(kind), mail_from=FROM, now=NOW)) for kind in sorted(KINDS)]
    alone, together = EmlFolderChannel(tmp_path / "alone"), EmlFolderChannel(tmp_path / "together")
    for message in messages:
        alone.send(message)
    blocked = together.path_for(messages[3])
    blocked.mkdir(parents=True)  # a folder where its file should go: that one cannot be written
    outcomes = send_all(together, messages)
    assert [i for i, o in enumerate(outcomes) if o is not None] == [3]
    assert "niet beschrijfbaar" in str(outcomes[3])
    for message in messages[:3] + messages[4:]:
        assert together.path_for(message).read_bytes() == alone.path_for(message).read_bytes() == message.data
    assert len(list(together.folder.iterdir())) == len(messages)  # no temporary files left behind


def test_a_batch_of_files_is_on_disk_before_its_names_and_its_names_before_it_counts_as_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a message counts as sent once its file would survive a power cut: the contents made durable first (under
    # temporary names), then each renamed into place, then the folder itself (which holds the names) made durable
    log: list[str] = []
    folder = tmp_path / "outbox"
    real_replace, real_fsync, real_durable = os.replace, os.fsync, channels._make_durable

    def durable(descriptors: list[int]) -> None:
        log.append(f"contents of {len(descriptors)}")
        real_durable(descriptors)

    def replace(source: str, target: Path) -> None:
        assert Path(source).read_bytes(), "put in place before it was written"
        log.append("rename")
        real_replace(source, target)

    def fsync(fd: int) -> None:
        log.append("folder" if os.path.samefile(f"/proc/self/fd/{fd}", folder) else "a file")
        real_fsync(fd)

    monkeypatch.setattr(channels, "_make_durable", durable)
    monkeypatch.setattr(channels.os, "replace", replace)
    monkeypatch.setattr(channels.os, "fsync", fsync)
    messages = [Rendered.of(render(sample(kind), mail_from=FROM, now=NOW)) for kind in sorted(KINDS)[:5]]
    assert send_all(EmlFolderChannel(folder), messages) == [None] * 5
    assert log == ["contents of 5"] + ["rename"] * 5 + ["folder"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(eml_name(m.key or "") for m in messages)


def test_files_of_a_batch_are_written_alike_where_the_file_system_cannot_be_synced_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without Linux's syncfs (another system) each file is fsync-ed itself: the same files
    messages = [Rendered.of(render(sample(kind), mail_from=FROM, now=NOW)) for kind in sorted(KINDS)[:4]]
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(channels, "_syncfs", lambda: None)

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(channels.os, "fsync", fsync)
    assert send_all(EmlFolderChannel(tmp_path / "other"), messages) == [None] * 4
    assert len(synced) == 4 + 1  # each file, then the folder
    for message in messages:
        assert (tmp_path / "other" / eml_name(message.key or "")).read_bytes() == message.data


def test_a_batch_interrupted_before_its_files_are_durable_leaves_no_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C while the disk is being waited for: nothing was sent, so nothing is put in place (the dispatcher keeps
    # the batch claimed and sends it again after the lease, into the same files)
    def interrupted(descriptors: list[int]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(channels, "_make_durable", interrupted)
    folder = tmp_path / "outbox"
    messages = [Rendered.of(render(sample(kind), mail_from=FROM, now=NOW)) for kind in sorted(KINDS)[:3]]
    with pytest.raises(KeyboardInterrupt):
        send_all(EmlFolderChannel(folder), messages)
    assert list(folder.iterdir()) == []


def test_a_batch_the_disk_cannot_take_fails_whole_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(descriptors: list[int]) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(channels, "_make_durable", full)
    folder = tmp_path / "outbox"
    messages = [Rendered.of(render(sample(kind), mail_from=FROM, now=NOW)) for kind in sorted(KINDS)[:3]]
    outcomes = send_all(EmlFolderChannel(folder), messages)
    assert all(isinstance(o, DeliveryError) and "No space left on device" in str(o) for o in outcomes)
    assert list(folder.iterdir()) == []


def test_unwritable_outbox_folder_is_a_delivery_error_in_dutch(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("een bestand, geen map")
    with pytest.raises(DeliveryError, match="niet beschrijfbaar"):
        EmlFolderChannel(blocker).send(render(sample("board_left"), mail_from=FROM, now=NOW))


def test_messages_sent_on_a_held_connection_share_it_and_one_the_server_closed_meanwhile_is_opened_anew() -> None:
    with running_mailserver(idle_timeout=0.5) as server:
        channel = SmtpChannel(server.host, server.port, timeout=5)
        with channel.held():
            for kind in ("board_left", "board_recovery"):
                channel.send(render(sample(kind), mail_from=FROM, now=NOW))
            time.sleep(1.0)  # the server gives up on the idle connection: 421, and closes it
            channel.send(render(sample("board_progress"), mail_from=FROM, now=NOW))
        channel.send(render(sample("board_digest"), mail_from=FROM, now=NOW))  # not held: a connection of its own
    peers = [r.peer for r in server.received]
    assert [r.message["X-Qualitycycle-Key"] for r in server.received] == [
        sample(kind).key for kind in ("board_left", "board_recovery", "board_progress", "board_digest")]
    assert peers[0] == peers[1] and len(set(peers)) == 3  # each message once; the third on a new connection


def test_a_message_the_server_may_have_taken_before_the_held_connection_dropped_is_not_sent_again_at_once() -> None:
    # the server keeps the second message and drops the connection before its answer: the channel cannot know
    # whether it was taken, so it reports a failed attempt (the dispatcher retries it later, same Message-ID)
    # rather than sending it again on a new connection; the third goes on a new connection
    first, second, third = (render(sample(kind), mail_from=FROM, now=NOW)
                            for kind in ("board_left", "board_recovery", "board_progress"))
    with running_mailserver() as server:
        channel = SmtpChannel(server.host, server.port, timeout=5)
        with channel.held():
            channel.send(first)
            server.recorder.drop = 1
            with pytest.raises(DeliveryError, match="niet bereikbaar"):
                channel.send(second)
            channel.send(third)
    assert [r.message["Message-ID"] for r in server.received] == [m["Message-ID"] for m in (first, second, third)]
    assert server.received[0].peer == server.received[1].peer != server.received[2].peer


def test_refusing_or_unreachable_smtp_server_is_a_delivery_error_in_dutch(smtp: MailServer) -> None:
    msg = render(sample("board_recovery"), mail_from=FROM, now=NOW)
    smtp.recorder.refuse = 1
    with pytest.raises(DeliveryError, match=r"weigerde het bericht \(451") as temporary:
        SmtpChannel(smtp.host, smtp.port).send(msg)
    assert not temporary.value.permanent
    smtp.recorder.refuse, smtp.recorder.reply = 1, "550 5.1.1 mailbox bestaat niet"
    with pytest.raises(DeliveryError, match=r"weigerde het bericht \(550") as permanent:
        SmtpChannel(smtp.host, smtp.port).send(msg)
    assert permanent.value.permanent
    with pytest.raises(DeliveryError, match="niet bereikbaar"):
        SmtpChannel("127.0.0.1", closed_port(), timeout=2).send(msg)
    assert smtp.received == []


def test_smtp_settings_build_the_channel_and_never_show_the_password(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    assert SmtpChannel("mail.example").effective_port == 25
    assert SmtpChannel("mail.example", security="starttls").effective_port == 587
    assert SmtpChannel("mail.example", security="tls").effective_port == 465
    assert SmtpChannel("mail.example", port=2525, security="tls").effective_port == 2525
    with pytest.raises(ValueError, match="none, starttls of tls"):
        SmtpChannel("mail.example", security="ssl")  # type: ignore[arg-type]
    for name in ("QC_SETTINGS_FILE", "QC_SMTP_PORT", "QC_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    default = channel_from_settings(Settings(home=tmp_path / "var"))
    assert isinstance(default, EmlFolderChannel) and default.folder == tmp_path / "var" / "outbox"
    monkeypatch.setenv("QC_SMTP_HOST", "smtp.cohaesie.example")
    monkeypatch.setenv("QC_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("QC_SMTP_USER", "kwaliteit")
    monkeypatch.setenv("QC_SMTP_PASSWORD", "geheim-wachtwoord")
    monkeypatch.setenv("QC_MAIL_FROM", FROM)
    settings = Settings()
    assert isinstance(settings.smtp_password, SecretStr) and "geheim" not in repr(settings)
    channel = channel_from_settings(settings)
    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.effective_port, channel.security, channel.user, channel.password) == (
        "smtp.cohaesie.example", 587, "starttls", "kwaliteit", "geheim-wachtwoord")
    assert "geheim" not in repr(channel) and "geheim" not in str(channel)
    assert settings.mail_from == FROM


def test_starttls_with_a_login_reaches_a_server_with_a_self_signed_certificate(tmp_path: Path) -> None:
    with running_mailserver(tls="starttls", folder=tmp_path, login=("kwaliteit", "geheim")) as server:
        msg = render(sample("training_due"), mail_from=FROM, now=NOW)
        channel = SmtpChannel(server.host, server.port, security="starttls", user="kwaliteit", password="geheim",
                              ssl_context=server.client_context())
        channel.send(msg)
        with pytest.raises(DeliveryError, match="weigerde de inlog"):
            dataclasses.replace(channel, password="fout").send(msg)
        with pytest.raises(DeliveryError):  # without STARTTLS the server will not take the message
            SmtpChannel(server.host, server.port).send(msg)
        with pytest.raises(DeliveryError, match="beveiligde verbinding"):  # a certificate it does not trust
            SmtpChannel(server.host, server.port, security="starttls").send(msg)
        (received,) = server.received
        assert received.message["Message-ID"] == msg["Message-ID"]


def test_implicit_tls_reaches_a_server_with_a_self_signed_certificate(tmp_path: Path) -> None:
    with running_mailserver(tls="tls", folder=tmp_path) as server:
        msg = render(sample("conversation_overdue"), mail_from=FROM, now=NOW)
        SmtpChannel(server.host, server.port, security="tls", ssl_context=server.client_context()).send(msg)
        (received,) = server.received
        assert "had uiterlijk op vrijdag 14 november 2025 gehouden moeten zijn" in text_of(received.message)


def test_every_message_kind_has_a_dutch_name_for_the_run_reports() -> None:
    from pathlib import Path

    from domain.vocabulary import MESSAGE_KIND_NAMES_NL

    templates = Path(__file__).resolve().parents[2] / "notifications" / "templates"
    kinds = {p.name.split(".")[0] for p in templates.glob("*.txt.j2") if not p.name.startswith("_")}
    assert kinds and kinds <= set(MESSAGE_KIND_NAMES_NL)
    names = [MESSAGE_KIND_NAMES_NL[k] for k in kinds]
    assert len(set(names)) == len(names) and not any("_" in n or ":" in n for n in names)
