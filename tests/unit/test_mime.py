"""A message's bytes written straight from its parts (``notifications.mime``) are the bytes Python's ``email`` package
writes for the same message, or the writer declines and the package writes them (issue 16): compared for every kind
of message and for names, subjects, bodies and attachments chosen to trip a hand-written writer."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import icalendar
import pytest

from domain.clock import AMSTERDAM
from notifications import ics, mime
from notifications.channels import Rendered
from notifications.rendering import email_message, parts, render_all, sample_messages

NOW = datetime(2025, 10, 6, 7, 0, tzinfo=AMSTERDAM)
FROM = "kwaliteit@cohaesie.example"


def by_email_package(p: mime.Parts) -> bytes:
    return Rendered.of(email_message(p)).data


def all_parts() -> list[mime.Parts]:
    return [parts(m, mail_from=FROM, now=NOW, care_group="Cohaesie") for m in sample_messages().values()]


def test_every_kind_of_message_is_written_byte_for_byte_as_the_email_package_writes_it() -> None:
    for p in all_parts():
        written = mime.write(p)
        assert written is not None, f"{p.key}: declined, so nothing was compared"
        assert written == by_email_package(p), p.key


NAMES = ["C. Bakker", "Huisartsenpraktijk De Linde", "A. 't Hart", "J. van der Berg-Smit", "Praktijk 3 & 4",
         "Bakker, C.", 'C. "Kees" Bakker', "Bakker (waarnemer)", "José Müller", "Ærø Åkerlund", "", "x" * 200,
         "De Linde/Het Anker", "O'Neill", "Dr.Bakker", "Zorg+ Noord", "Praktijk; De Linde", "Bakker <c>",
         "back\\slash", "a@b", "tab\there"]
SUBJECTS = ["Uitnodiging kwaliteitsjaargesprek Huisartsenpraktijk De Linde, dinsdag 4 november 2025",
            "Herinnering: =?utf-8?q?gesprek?= op dinsdag", "Doel HbA1c: niet gehaald (84,0%)", "café", "a" * 980,
            "a" * 990, "a" * 1200, "Uitnodiging  dubbel", "Caspir-cursus [verplicht] voor 31-01-2026", "Prijs: € 5", ""]
DATES = ["Mon, 06 Oct 2025 07:00:00 +0200", "Mon, 6 Oct 2025 07:00:00 +0200", "06 Oct 2025 07:00:00 +0200",
         "Mon, 06 Oct 2025 05:00:00 GMT", "Mon, 06 Oct 2025 05:00:00 -0000", "Mon, 06 Oct 2025 05:00:00 +0000"]
BODIES = ["Beste C. Bakker,\n\nTot ziens.\n", "", "geen regeleinde", "lange regel " * 40 + "\n",
          "spaties aan het eind   \nen een tab\t\n", "From the start\n.\n..punt\n", "Ærø Å en … en € en 👍\n",
          "= is gelijk =3D en =\n", "r\r\nn\rn\n", "\x0bverticaal\x0cformfeed\x1cscheiding\x85next\u2028lijn\n",
          "a" * 75 + "=\n" + "b" * 74 + "é\n"]


def variants() -> list[mime.Parts]:
    """Messages chosen to trip a hand-written writer: each of the sample parts with one thing changed."""
    base = next(p for p in all_parts() if p.attachments)
    plain = next(p for p in all_parts() if not p.attachments)
    return ([dataclasses.replace(b, recipient_name=n) for b in (base, plain) for n in NAMES]
            + [dataclasses.replace(plain, sender_name=n) for n in NAMES]
            + [dataclasses.replace(b, subject=s) for b in (base, plain) for s in SUBJECTS]
            + [dataclasses.replace(plain, text=t, html=t) for t in BODIES]
            + [dataclasses.replace(plain, key=k) for k in ("training_due:01234567:poh_chronic:D. Mulder:x",
                                                           "sleutel met  twee spaties", "Müller:01234567", "")]
            + [dataclasses.replace(plain, date=d) for d in DATES]
            + [dataclasses.replace(base, boundaries=b) for b in (("a b", "c"), ('c"d', "e"), ("==x==", "==y=="))]
            + [dataclasses.replace(base, attachments=(mime.Attachment(b"", "text", "plain", "leeg.txt"),)),
               dataclasses.replace(base, attachments=(mime.Attachment(bytes(range(256)) * 9, "application",
                                                                     "octet-stream", "alle-bytes.bin"),)),
               dataclasses.replace(base, attachments=(mime.Attachment(b"x", "text", "plain", "met spatie.txt"),)),
               dataclasses.replace(base, attachments=(mime.Attachment(b"x", "text", "plain", "a.txt",
                                                                     (("name", "wáár"),)),))]
            + [dataclasses.replace(base, attachments=(mime.Attachment(b"x", *kind),))
               for kind in (("text", "plain", "f" * 950), ("text", "plain", "f" * 980),
                            ("text", "calendar", "a.ics", (("charset", "a"), ("charset", "b"))),
                            ("text", "calendar", "a.ics", (("a", "1"), ("A", "2"))),
                            ("text", "calendar", "a.ics", (("Method", "REQUEST"),)),
                            ("multipart", "mixed", "a.bin"), ("message", "rfc822", "a.eml"))])


def test_names_subjects_and_bodies_that_could_trip_a_writer_come_out_as_the_email_package_writes_them() -> None:
    written = declined = 0
    for p in variants():
        try:
            expected = by_email_package(p)
        except (ValueError, UnicodeError):  # the package refuses it too: then the writer must not write it
            assert mime.write(p) is None, p
            continue
        result = mime.write(p)
        if result is None:
            declined += 1
        else:
            written += 1
            assert result == expected, p
    # the writer took many of them (a writer that declines everything would pass the comparison above)
    assert written >= 50 and declined > 0


def test_rendering_for_dispatch_gives_the_email_packages_bytes_and_declines_to_it() -> None:
    message = sample_messages()["meeting_invitation"]
    outside = dataclasses.replace(message, recipient_name="José Müller")  # a name in an encoded word: declined
    for m in (message, outside):
        (done,) = render_all([m], mail_from=FROM, now=NOW, care_group="Cohaesie")
        assert isinstance(done, Rendered)
        assert done.data == by_email_package(parts(m, mail_from=FROM, now=NOW, care_group="Cohaesie"))
        assert (done.sender, done.recipient, done.key) == (FROM, m.recipient_email, m.key)
    assert mime.write(parts(outside, mail_from=FROM, now=NOW, care_group="Cohaesie")) is None


@pytest.mark.parametrize("kind", sorted(k for k, m in sample_messages().items() if k.endswith("invitation")))
def test_an_invite_with_its_timezone_spliced_in_is_the_calendar_icalendar_writes_whole(kind: str) -> None:
    message = sample_messages()[kind]
    p = message.payload
    event = p.get("conversation") or p["meeting"]
    calendar = ics.invitation_calendar(
        key="k", start=datetime.fromisoformat(event["start"]), end=datetime.fromisoformat(event["end"]),
        summary="Overleg, met komma; en puntkomma", description="regel één\nregel twee " + "lang " * 30,
        location=event.get("location"), organizer=ics.CalendarPerson("A. Jansen", "a.jansen@cohaesie.example"),
        attendees=[ics.CalendarPerson("C. Bakker", "c.bakker@delinde.example", "huisarts")], now=NOW)
    spliced = ics.invite_bytes(calendar)
    calendar.subcomponents.insert(0, ics.amsterdam_timezone())  # where add_component before the event puts it
    assert spliced == calendar.to_ical()
    assert icalendar.Calendar.from_ical(spliced).walk("VTIMEZONE")[0]["TZID"] == "Europe/Amsterdam"
