"""The kernel's file locks (flock), taken within a time limit: a process that dies leaves none
behind, and one that waits too long gives up and says so instead of hanging a flow run."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EVERY_S = 0.2


def within(fd: int, seconds: float, shared: bool = False) -> bool:
    """Lock `fd` (exclusive, or shared), waiting up to `seconds`; False when the wait ran out."""
    op = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    until = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, op)
            return True
        except BlockingIOError:
            if time.monotonic() >= until:
                return False
            time.sleep(EVERY_S)


@contextmanager
def held(path: Path, seconds: float, shared: bool = False) -> Iterator[int | None]:
    """The lock file `path` (created if missing) locked for the block: its descriptor, or None
    when the wait ran out. Closing the descriptor releases the lock."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        yield fd if within(fd, seconds, shared) else None
    finally:
        os.close(fd)
