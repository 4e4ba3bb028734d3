"""A care group to open the workspace on: De Linde under the underperformer policy since June 2025, De Eik flagged
for an extra conversation in May 2026, De Esdoorn in its annual cycle; an officer, a board member, an admin and an
account for De Linde and for De Eik. Built once per test session (the scenario takes seconds), copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.accounts import AccountRole
from domain.clock import AMSTERDAM
from domain.trajectory import TrajectoryState
from flows.services import accounts
from flows.services.context import Services
from flows.services.settings import Settings
from flows.testing.scenario import Scenario
from flows.web.app import create_app
from storage.database import sqlite_url

LINDE, EIK, ESDOORN = "01234567", "07654321", "01111111"
NOW = datetime(2026, 5, 8, 12, 0, tzinfo=AMSTERDAM)  # four days after the last run: live
PASSWORD = "correct paard batterij niet"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>]
practices:
  "{LINDE}": {{name: Huisartsenpraktijk De Linde, gp_group: HAGRO-WEST, email: praktijk@delinde.example,
              programmes: {{dm2: 2023-01-01}}, people: {{gp_principal: C. Bakker, poh_chronic: D. Mulder}}}}
  "{EIK}": {{name: Praktijk De Eik, gp_group: HAGRO-WEST, email: info@deeik.example, programmes: {{dm2: 2023-01-01}},
            people: {{gp_principal: G. Peters, poh_chronic: H. Vos}}}}
  "{ESDOORN}": {{name: Praktijk De Esdoorn, gp_group: HAGRO-OOST, programmes: {{dm2: 2023-01-01}}}}
"""
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}
LOGINS = {"admin": "beheer", "officer": "a.jansen", "board": "bestuur", "practice": "linde", "other": "eik"}


def hba1c(value: float) -> dict[str, float]:
    return {**GOOD, "dm2/hba1c_measured": value}


@pytest.fixture(scope="session")
def workspace_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workspace") / "workspace.db"
    shutil.copy(sqlite_template, path)
    services = Services.open(sqlite_url(path), upgrade=False)
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    for agb, day in ((LINDE, "2024-01-15"), (EIK, "2024-01-16"), (ESDOORN, "2024-01-17")):
        sc.conversation(agb, "start", day)
    sc.scores("2024-03-31", {LINDE: hba1c(60), EIK: GOOD, ESDOORN: GOOD})
    sc.run("2024-04-08")
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    for quarter, value in zip(("2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30"),
                              (61, 62, 63, 64, 64), strict=True):
        sc.scores(quarter, {LINDE: hba1c(value), EIK: GOOD, ESDOORN: GOOD})
    sc.run_weekly("2025-07-07")
    for agb, day in ((EIK, "2025-01-13"), (ESDOORN, "2025-01-14")):
        sc.conversation(agb, "annual", day)
    for quarter in ("2025-09-30", "2025-12-31"):
        sc.scores(quarter, {LINDE: hba1c(64), EIK: GOOD, ESDOORN: GOOD})
    for agb, day in ((EIK, "2026-01-12"), (ESDOORN, "2026-01-13")):
        sc.conversation(agb, "annual", day)
    sc.scores("2026-03-31", {LINDE: hba1c(64), EIK: hba1c(58), ESDOORN: GOOD})
    sc.run("2026-05-04")
    assert (sc.state(LINDE), sc.state(EIK), sc.state(ESDOORN)) == (
        TrajectoryState.UNDERPERFORMER_POLICY, TrajectoryState.EXTRA_CONVERSATION, TrajectoryState.ANNUAL_CYCLE)
    for role, login in LOGINS.items():
        practice = {"practice": LINDE, "other": EIK}.get(role)
        accounts.add_user(services, login, AccountRole.PRACTICE if practice else AccountRole(role), PASSWORD, NOW,
                          "test", agb_code=practice)
    services.db.dispose()
    return path


@pytest.fixture
def workspace(workspace_template: Path, tmp_path: Path) -> Iterator[Services]:
    path = tmp_path / "workspace.db"
    shutil.copy(workspace_template, path)
    services = Services.open(sqlite_url(path), upgrade=False)
    yield services
    services.db.dispose()


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, web_failed_login_delay=0)


@pytest.fixture
def app_of(workspace: Services, web_settings: Settings) -> Callable[..., TestClient]:
    """A client of the workspace, signed in as ``role`` (None: nobody), at ``NOW`` unless told otherwise."""
    def make(role: str | None = None, clock: Callable[[], datetime] = lambda: NOW) -> TestClient:
        client = TestClient(create_app(workspace, web_settings, clock), follow_redirects=False)
        if role is not None:
            sign_in(client, LOGINS[role])
        return client
    return make


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> None:
    form = client.get("/login")
    token = form.cookies.get("qc_login_csrf") or client.cookies.get("qc_login_csrf")
    done = client.post("/login", data={"username": login, "password": password, "login_token": token, "next": "/"})
    assert done.status_code == 303, done.text


def csrf_of(client: TestClient, page: str = "/") -> str:
    """The session's CSRF token, as the pages carry it."""
    import re

    html = client.get(page, follow_redirects=True).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


__all__ = ["time"]
