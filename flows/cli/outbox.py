"""Commands of the outbox: what waits, is sent or failed; send now; preview a message kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from domain.vocabulary import message_kind_nl
from flows.cli import common as cli
from flows.cli.common import config, err, out, queries

OUTBOX_STATUS_NL = {"pending": "wacht", "sending": "bezig", "sent": "verzonden", "failed": "mislukt",
                    "withdrawn": "ingetrokken", "historic": "historisch (niet verstuurd)"}


@cli.command()
def outbox(
    status: Annotated[str | None, typer.Option(
        "--status", help="pending, sending, sent, failed of historic.")] = None,
    as_json: cli.JsonOption = False,
) -> None:
    """De berichten in de outbox: wat wacht (en waarom), wat is verzonden en wat is mislukt."""
    if status is not None and status not in OUTBOX_STATUS_NL:
        raise cli.CliInputError(f"--status {status!r} onbekend: kies uit {', '.join(OUTBOX_STATUS_NL)}")
    services = cli.services()
    rows = queries.outbox_messages(services, status)
    if as_json:
        typer.echo(json.dumps([{
            "id": r.id, "key": r.key, "kind": r.kind, "agb_code": r.agb_code, "recipient_name": r.recipient_name,
            "recipient_email": r.recipient_email, "recipient_role": r.recipient_role, "subject": r.subject,
            "status": r.status, "attempts": r.attempts, "last_error": r.last_error, "message_id": r.message_id,
            "created_at": cli.when(r.created_at) or None, "last_attempt_at": cli.when(r.last_attempt_at) or None,
            "next_attempt_at": cli.when(r.next_attempt_at) or None, "sent_at": cli.when(r.sent_at) or None,
        } for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title="Outbox" + (f" ({OUTBOX_STATUS_NL[status]})" if status else ""),
                  caption="onderwerp, Message-ID en alle tijden: --json")
    for column in ("Aangemaakt", "Soort", "Praktijk", "Ontvanger", "Status", "Pogingen", "Verzonden/volgende",
                   "Reden"):
        table.add_column(column, overflow="fold")
    for r in rows:
        who = f"{r.recipient_name} <{r.recipient_email}>" if r.recipient_email else f"{r.recipient_name} (geen adres)"
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        table.add_row(cli.short(r.created_at), message_kind_nl(r.kind), r.agb_code or "", who,
                      OUTBOX_STATUS_NL.get(r.status, r.status),
                      str(r.attempts), cli.short(when), r.last_error or "")
    out.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    out.print(", ".join(f"{OUTBOX_STATUS_NL.get(k, k)}: {n}" for k, n in sorted(counts.items())) or "outbox is leeg")


@cli.command()
def send(now: cli.NowOption = None) -> None:
    """Verstuur nu alle berichten die aan de beurt zijn (via SMTP, of als .eml-bestand in QC_HOME/outbox)."""
    from flows.services.outbox import channel_from_settings, dispatch_outbox

    settings = config.load_settings()
    services = cli.services()
    report = dispatch_outbox(services, channel_from_settings(settings), cli.moment(now), mail_from=settings.mail_from)
    resent = f" (waarvan {len(report.resent)} opnieuw na een onderbreking)" if report.resent else ""
    out.print(f"verzenden via {report.channel}: {len(report.sent)} verzonden{resent}, "
              f"{len(report.retrying)} later opnieuw, {len(report.failed)} mislukt, "
              f"{len(report.held)} wachten op een e-mailadres", markup=False)
    for p in report.retrying:
        err.print(f"  later opnieuw (vanaf {cli.when(p.next_attempt_at)}): {p.key}: {p.reason}", markup=False)
    for p in report.failed:
        err.print(f"  mislukt, opgegeven: {p.key}: {p.reason}", markup=False)
    for p in report.held:
        err.print(f"  wacht: {p.key}: {p.reason}", markup=False)
    if report.notices_queued:
        out.print(f"  {report.notices_queued} melding(en) over een ontbrekend adres aan de functionarissen klaargezet")
    if report.failed:
        raise typer.Exit(1)


@cli.command()
def preview(
    kind: Annotated[str, typer.Argument(help="Soort bericht, bijvoorbeeld conversation_invitation.")],
    output: Annotated[Path | None, typer.Option("--out", help="Schrijf naar een bestand: .eml het hele bericht, "
                                                              ".html de HTML-versie, .ics de agenda-uitnodiging, "
                                                              "anders de tekst.")] = None,
) -> None:
    """Toon een voorbeeldbericht van een soort, zodat de tekst gecontroleerd kan worden."""
    from flows.services.outbox import preview as sample

    shown = sample(kind, mail_from=config.load_settings().mail_from, now=cli.moment(None))
    if output is not None:
        suffix = output.suffix.lower()
        if suffix == ".eml":
            output.write_bytes(shown.eml)
        elif suffix in (".html", ".htm"):
            output.write_text(shown.html, encoding="utf-8")
        elif suffix == ".ics":
            if shown.calendar is None:
                raise cli.CliInputError(f"berichtsoort {kind} heeft geen agenda-uitnodiging")
            output.write_bytes(shown.calendar)
        else:
            output.write_text(shown.text, encoding="utf-8")
        out.print(f"voorbeeld {kind} geschreven: {output}", markup=False)
        return
    typer.echo(f"Van: {shown.sender}\nAan: {shown.recipient}\nOnderwerp: {shown.subject}\n")
    typer.echo(shown.text, nl=False)
    for name, content_type in shown.attachments:
        typer.echo(f"[bijlage: {name} ({content_type})]")
