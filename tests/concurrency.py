"""Two writers at once, in one test: the second, in a thread, must wait for the first one's locks."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlmodel import Session


def second_waits_for_first(second: Callable[[], None], first: Session, why: str) -> None:
    """Run ``second`` in a thread while ``first`` holds its locks: a second later it must still be waiting (``why``
    says for what); then ``first`` commits, and ``second`` has ten seconds to finish."""
    worker = threading.Thread(target=second)
    worker.start()
    worker.join(timeout=1.0)
    assert worker.is_alive(), why
    first.commit()
    worker.join(timeout=10)
