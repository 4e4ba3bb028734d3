"""``qualitycycle``, the command line (``flows.cli.app``)."""

from __future__ import annotations


def main() -> None:
    """The console script's entry (``flows.cli.app.main``), importable from the package too."""
    from flows.cli.app import main as run

    run()
