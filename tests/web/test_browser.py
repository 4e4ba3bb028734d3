"""The workspace in real Chromium (Playwright with Debian's ``chromium``; ``QC_CHROMIUM`` names it, else the one on
the PATH; skipped with a clear line where there is none): an officer finds the flagged practice and records its
extra conversation with a plan and agreements and sees the state change; a practice cannot reach another by URL;
the board page lists the escalated practice with its reasons."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from flows.services.context import Services
from flows.services.settings import Settings
from flows.web.app import create_app
from storage.database import sqlite_url
from tests.web.conftest import EIK, LINDE, NOW, PASSWORD

CHROMIUM = os.environ.get("QC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed: browser tests skipped "
                                "(apt-get install chromium, or set QC_CHROMIUM)")
SHOTS = os.environ.get("QC_SCREENSHOTS")  # a folder: the pages are photographed for docs/ (docs/screenshots.py)


@pytest.fixture
def server(workspace_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "workspace.db"
    shutil.copy(workspace_template, path)
    services = Services.open(sqlite_url(path), upgrade=False)
    app = create_app(services, Settings(home=tmp_path, web_failed_login_delay=0), lambda: NOW)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(5)
    services.db.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def sign_in(page: object, base: str, login: str) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def shot(page: object, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_officer_finds_the_flagged_practice_and_records_its_extra_conversation(server: str, browser: object
                                                                                 ) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    sign_in(page, server, "a.jansen")
    page.wait_for_url(f"{server}/overview")
    page.select_option("select[name=state]", "extra_conversation")  # htmx filters the table in place
    page.wait_for_function("document.querySelectorAll('#practices tbody tr').length === 1")
    shot(page, "workspace-overview")
    page.click(f"#practices a[href='/practices/{EIK}']")
    page.wait_for_url(f"{server}/practices/{EIK}")
    assert page.inner_text("#state") == "extra gesprek"
    shot(page, "workspace-practice")
    page.click("text=Gesprek vastleggen")
    page.fill("textarea[name=summary]", "Oproepsysteem en recall besproken.")
    page.fill("textarea[name=agreements]", "Recall-lijst HbA1c maandelijks nalopen\nPOH volgt de Caspir-cursus")
    page.fill("textarea[name=goals]", "dm2/hba1c_measured 85 2026-12-31")
    shot(page, "workspace-conversation-form")
    page.click("button:text('Vastleggen')")
    page.wait_for_url(f"{server}/practices/{EIK}?saved=*")
    assert page.inner_text("#state") == "verbeterplan"
    assert "Recall-lijst HbA1c maandelijks nalopen" in page.content()
    assert outside == []  # nothing loaded from outside the workspace


def test_a_practice_cannot_reach_another_practice_by_url(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, server, "linde")
    page.wait_for_url(f"{server}/practices/{LINDE}")
    answer = page.goto(f"{server}/practices/{EIK}")
    assert answer.status == 404 and "Praktijk De Eik" not in page.content()
    assert page.goto(f"{server}/api/practices/{EIK}").status == 404


def test_the_board_page_lists_the_escalated_practice_with_its_reasons(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    sign_in(page, server, "bestuur")
    page.wait_for_url(f"{server}/board")
    card = page.inner_text(f"#practice-{LINDE}")
    assert "beleid minder presterende praktijken" in card and "blijft meer dan 20,0% achter" in card
    shot(page, "workspace-board")
