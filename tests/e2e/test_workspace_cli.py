"""An admin manages the workspace's accounts at the command line: the password from standard input (never an
option), a practice account bound to its practice, disabled and given a new password; bad input refused, exit 1."""

from __future__ import annotations

from flows.cli.app import app
from tests.e2e.test_cli import LINDE, REGISTRY, Staff, flat, staff, write

__all__ = ["staff"]


def test_an_admin_adds_lists_disables_and_resets_accounts(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))

    def run(*args: str, password: str = "") -> object:
        return staff.runner.invoke(app, list(args), input=password + "\n", env={"QC_HOME": str(staff.home)})

    done = run("user", "add", "a.jansen", "--role", "officer", password="een lang wachtwoord")
    assert done.exit_code == 0 and "gebruiker a.jansen (officer) toegevoegd" in flat(done.output)  # type: ignore[attr-defined]
    done = run("user", "add", "linde", "--role", "practice", "--practice", LINDE, password="een lang wachtwoord")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    listed = {u["login"]: u for u in staff.json("user", "list")}
    assert (listed["linde"]["agb_code"], listed["linde"]["gp_group"], listed["a.jansen"]["role"]) == (
        LINDE, "HAGRO-WEST", "officer")
    for args, password, words in ((("user", "add", "kort", "--role", "officer"), "kort", "te kort"),
                                  (("user", "add", "x1", "--role", "koning"), "een lang wachtwoord", "--role"),
                                  (("user", "add", "x2", "--role", "practice"), "een lang wachtwoord", "--practice"),
                                  (("user", "add", "a.jansen", "--role", "board"), "een lang wachtwoord", "bestaat al"),
                                  (("user", "disable", "niemand"), "", "niet bekend")):
        refused = run(*args, password=password)
        assert refused.exit_code == 1 and words in flat(refused.output), (args, refused.output)  # type: ignore[attr-defined]
    assert "uitgeschakeld" in flat(staff("user", "disable", "linde").stdout)
    assert {u["login"]: u["disabled"] for u in staff.json("user", "list")}["linde"] is True
    done = run("user", "password", "linde", password="nog een lang wachtwoord")
    assert done.exit_code == 0 and {u["login"]: u["disabled"] for u in staff.json("user", "list")}["linde"] is False  # type: ignore[attr-defined]
    assert "web" in staff("--help").stdout
