"""Reproduce the workspace's screenshots in ``docs/``: the demo's care group after three years, served as the demo
prints (its clock at the demo's last day), photographed in Debian's chromium by Playwright.

    .venv/bin/python docs/workspace.py     # writes docs/workspace-{overview,practice,conversation-form,board}.png

About a minute (the demo runs in a temporary folder first).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from domain.clock import AMSTERDAM
from flows.services import context
from flows.services.settings import Settings
from flows.testing.demo import DEMO_PASSWORD, run_demo
from flows.web.app import create_app
from storage.database import sqlite_url

DOCS = Path(__file__).resolve().parent
MOMENT = datetime(2026, 12, 31, 17, 0, tzinfo=AMSTERDAM)
PRACTICE = "01000002"


def main() -> None:
    chromium = os.environ.get("QC_CHROMIUM") or shutil.which("chromium")
    with tempfile.TemporaryDirectory() as folder:
        result = run_demo(Path(folder) / "demo")
        services = context.Services.open(sqlite_url(result.database))
        app = create_app(services, Settings(home=Path(folder)), lambda: MOMENT)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "functionaris")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/overview")
            for name, url in (("overview", "/overview"), ("practice", f"/practices/{PRACTICE}"),
                              ("conversation-form", f"/practices/{PRACTICE}/conversation?kind=annual"),
                              ("board", "/board")):
                page.goto(base + url)
                page.screenshot(path=str(DOCS / f"workspace-{name}.png"), full_page=name != "practice")
            browser.close()
        server.should_exit = True
    print("docs/workspace-*.png geschreven")


if __name__ == "__main__":
    main()
