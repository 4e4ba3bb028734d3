"""Waiting for a process outside this one (a Prefect server, a worker, a run) by asking again until it answers.

Used by the tests that start a real Prefect server and by ``docs/screenshots.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def poll(probe: Callable[[], T | None], timeout: float, *, every: float = 0.5,
         before_each: Callable[[], None] = lambda: None) -> T | None:
    """What ``probe`` returns once it is truthy, asked every ``every`` seconds; None when ``timeout`` passes first.
    An HTTP or OS error counts as no answer yet (the server is still starting). ``before_each`` runs before every
    try: it raises when waiting no longer makes sense (a process it waits on has exited)."""
    deadline = time.monotonic() + timeout
    while True:
        before_each()
        try:
            found = probe()
        except (httpx.HTTPError, OSError):
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            return None
        time.sleep(every)
