"""Reproduce the conversation pack of ``docs/``: the demo's care group after three years, the pack of De Eik
(under the underperformer policy since June 2025) as of 31 December 2026, and each of its pages as PNG.

    .venv/bin/python docs/pack.py          # writes docs/conversation-pack.pdf and docs/conversation-pack-N.png

The demo runs in a temporary folder (about half a minute); the PNGs are drawn by pdfium (``pypdfium2``).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, time
from pathlib import Path

import pypdfium2 as pdfium

from domain.clock import AMSTERDAM
from flows.services import context, packs
from flows.testing.demo import run_demo
from storage.database import sqlite_url

DOCS = Path(__file__).resolve().parent
PRACTICE = "01000002"
ON = date(2026, 12, 31)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = run_demo(Path(folder) / "demo")
        services = context.Services.open(sqlite_url(result.database))
        data = packs.conversation_pack(services, PRACTICE, ON, datetime.combine(ON, time(12), tzinfo=AMSTERDAM))
    (DOCS / "conversation-pack.pdf").write_bytes(data)
    for old in DOCS.glob("conversation-pack-*.png"):
        old.unlink()
    document = pdfium.PdfDocument(data)
    for i in range(len(document)):
        document[i].render(scale=1.5).to_pil().save(DOCS / f"conversation-pack-{i + 1}.png", optimize=True)
    print(f"docs/conversation-pack.pdf: {len(document)} pagina's")


if __name__ == "__main__":
    main()
