"""``qualitycycle``: the command line of operations staff, one module per command group. Messages to staff are
Dutch.

Every command that fails on bad input prints what is wrong in one or two lines on stderr,
without a traceback, and exits non-zero (1; 2 for a wrong command line). The errors are mapped once, in
``flows.cli.common``; a command only translates its options and calls the services.
"""

from __future__ import annotations

# the command groups register their commands on the app in this order (the order ``--help`` shows)
# isort: off
from flows.cli import data, conversations, duties, views, walks, outbox, policy, support, mirror_meetings, meetings  # noqa: F401
from flows.cli import quality_system  # noqa: F401
from flows.cli import cards  # noqa: F401
from flows.cli import training  # noqa: F401
from flows.cli import documents  # noqa: F401
from flows.cli import neighbourhood  # noqa: F401
from flows.cli import web  # noqa: F401
# isort: on
from flows.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
