"""A per-cell lock, so two runs (two clones, two Snakemake invocations on one `results_dir`)
never train the same cell at once. Snakemake's own lock covers one working directory only.

The lock is a file ``<cell>/lock`` created with O_EXCL and holding the owner's pid, host and
start time; it is removed on exit. A lock whose owner is gone (same host, pid not running)
is stale and taken over; one held from another host cannot be checked and is waited for
(the message says which file to delete if that run is known to be dead).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Callable


class CellLocked(RuntimeError):
    """Another live run holds the cell's lock (raised when not waiting)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class CellLock:
    def __init__(self, directory: str | Path, *, wait: bool = True, poll_seconds: float = 2.0,
                 say: Callable[[str], None] = print):
        self.path = Path(directory) / "lock"
        self.wait, self.poll_seconds, self.say = wait, poll_seconds, say
        self.owner = {"pid": os.getpid(), "host": socket.gethostname()}
        self.held = False

    def holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:  # being written right now
            return {}

    def _try_take(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            json.dump({**self.owner, "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, handle)
        return True

    def _break_if_stale(self) -> bool:
        """Remove the lock if its owner is a dead process on this host; the guard file makes
        the check-and-remove one step, so two waiters cannot both break (and both take) it."""
        with open(self.path.with_name("lock.guard"), "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            holder = self.holder()
            if not holder or holder.get("host") != self.owner["host"] or _alive(int(holder["pid"])):
                return False
            self.path.unlink(missing_ok=True)
        self.say(f"{self.path}: removed a stale lock of pid {holder['pid']} (no longer running)")
        return True

    def acquire(self) -> bool:
        """Take the lock; wait while another live run holds it, or return False (wait=False)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        told = False
        while not self._try_take():
            if self._break_if_stale():
                continue
            holder = self.holder() or {}
            message = (f"{self.path.parent.name}: another run is training this cell (pid {holder.get('pid')} on "
                       f"{holder.get('host')} since {holder.get('since')}); if it is gone, delete {self.path}")
            if not self.wait:
                raise CellLocked(message)
            if not told:
                self.say(message + "; waiting")
                told = True
            time.sleep(self.poll_seconds)
        self.held = True
        return True

    def release(self) -> None:
        if self.held and (self.holder() or {}).get("pid") == self.owner["pid"]:
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
