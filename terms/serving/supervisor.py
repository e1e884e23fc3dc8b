"""The processes of a production server, kept running (``manage.py serve``).

``make serve`` (and so ``make run``) starts three kinds of process:

- granian, the HTTP server, with its worker processes (granian itself
  respawns a worker that dies: ``--respawn-failed-workers``);
- the derived process (``manage.py derived``), which keeps annotate's matcher
  and the similar-terms index for every worker;
- the task worker (``manage.py db_worker``), which delivers webhooks.

This module starts them and starts again any that exits unexpectedly, after a
pause that doubles while it keeps failing at once (1 s up to 30 s). SIGTERM or
SIGINT stops them all: granian first (requests in flight finish), then the
others. If granian exits by itself with status 0 (someone stopped it on
purpose) everything stops; if it cannot even start (a port in use), the
supervisor gives up at once with its status instead of retrying for ever.

Written here rather than taken from a library: supervisord and circus are
services with configuration files of their own, honcho restarts nothing, and
what is needed (three children, restart with back-off, ordered stop) is one
small loop over ``subprocess``.
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

__all__ = ["Child", "Supervisor"]

_log = logging.getLogger(__name__)

#: Pauses before a restart: the first, and the most it grows to.
FIRST_PAUSE = 1.0
MAX_PAUSE = 30.0
#: A child up this long has recovered: its next failure pauses FIRST_PAUSE again.
HEALTHY_AFTER = 60.0
#: How long a child has to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 35.0


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    #: Whether its clean exit (status 0) stops the whole server (granian).
    essential: bool = False
    #: Waits for the child to be ready after a start (the derived socket).
    ready: object = None
    #: Removes what a child killed outright leaves behind (its socket), before
    #: it starts again and after the server stops.
    cleanup: object = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    pause: float = FIRST_PAUSE
    restart_at: float | None = None
    starts: int = field(default=0)

    def start(self, env: dict) -> None:
        """Start (or start again) the process."""
        if self.cleanup is not None:
            self.cleanup()
        self.process = subprocess.Popen(self.argv, env=env)
        self.started_at = time.monotonic()
        self.starts += 1
        self.restart_at = None
        _log.info("started %s (pid %s)", self.name, self.process.pid)
        if self.ready is not None:
            self.ready(self)


class Supervisor:
    """Starts the children, restarts those that die, stops them on a signal."""

    def __init__(self, children: list[Child], env: dict | None = None):
        self.children = children
        self.env = env if env is not None else dict(os.environ)
        self.stopping = False
        self.status = 0

    def _signal(self, signum, frame) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until stopped; the exit status."""
        signal.signal(signal.SIGTERM, self._signal)
        signal.signal(signal.SIGINT, self._signal)
        try:
            for child in self.children:
                child.start(self.env)
            while not self.stopping:
                self._tend()
                time.sleep(0.2)
        finally:
            self._stop_all()
        return self.status

    def _tend(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start(self.env)
                continue
            code = child.process.poll()
            if code is None:
                continue
            if child.essential and (code == 0 or now - child.started_at < 5.0):
                # Stopped on purpose, or cannot start at all (bad address).
                if code != 0 and child.starts == 1:
                    _log.error("%s could not start (status %s)", child.name, code)
                self.status = code
                self.stopping = True
                return
            if now - child.started_at > HEALTHY_AFTER:
                child.pause = FIRST_PAUSE
            _log.warning(
                "%s (pid %s) exited with status %s; starting it again in %.0f s",
                child.name,
                child.process.pid,
                code,
                child.pause,
            )
            child.restart_at = now + child.pause
            child.pause = min(MAX_PAUSE, child.pause * 2)

    def _stop_all(self) -> None:
        # The HTTP server first, so requests in flight can still use the rest.
        for child in sorted(self.children, key=lambda c: not c.essential):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for child in self.children:
            if child.cleanup is not None:
                child.cleanup()


def wait_for_socket(path: str, seconds: float = 30.0):
    """A ``ready`` check: wait until ``path`` is a socket (or the child died)."""

    def ready(child: Child) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and child.process.poll() is None:
            if os.path.exists(path):
                return
            time.sleep(0.05)

    return ready


def remove_file(path: str):
    """A ``cleanup``: remove ``path`` if it is there."""

    def cleanup() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    return cleanup


def python_argv(*args: str) -> list[str]:
    """``python manage.py ...`` with this interpreter."""
    from django.conf import settings

    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]
