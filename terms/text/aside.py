"""Structures derived from the whole glossary, rebuilt aside after it changes.

The annotate matcher and the similar-terms index take seconds to build for a
large glossary. ``LatestBuilds`` keeps, per key (a set of statuses), the latest
one built and the glossary version it was built for. Only the first for a key
is built on a request; after a change, requests keep getting the one there is
while one thread builds its successor (at most one build per key at a time),
and a build never replaces one made for a newer version. With ``background``
off (tests that hold an open transaction, whose rows another thread cannot
see), the new one is built on the request instead.

Written here rather than taken from a caching library: what is needed is
"serve the previous value while one thread computes the next", keyed by a
version that only grows, which the usual memoizing caches do not offer.
"""

import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LatestBuilds", "give_back_memory"]


def give_back_memory() -> None:
    """Hand the memory a build freed back to the system (glibc's ``malloc_trim``).

    A build allocates and frees hundreds of megabytes of small objects for a
    large glossary; the C allocator keeps freed pages for reuse unless asked,
    so without this a server process stays that much larger after every build
    (330 MiB of 720 after the similar-terms index of 100,000 terms). Nothing
    happens where the C library has no such call.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None (looked up once: finding the C
    library runs a program)."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


class LatestBuilds:
    """The latest built value per key, tagged with its glossary version."""

    def __init__(self, name: str, size: int = 8):
        self.name = name
        self.size = size
        self.lock = threading.Lock()
        #: key -> (version, value)
        self.latest: dict[tuple, tuple[tuple, Any]] = {}
        self.building: dict[tuple, threading.Thread] = {}

    def get(self, key: tuple, version: tuple, build: Callable, *, background: bool):
        """The value for ``key``: this version's, or the latest while it builds."""
        return self.get_fresh(key, version, build, background=background)[0]

    def get_fresh(
        self, key: tuple, version: tuple, build: Callable, *, background: bool
    ) -> tuple[Any, bool]:
        """``(value, fresh)``: fresh is False when the value is an earlier
        version's, served while this version's is built."""
        with self.lock:
            found = self.latest.get(key)
            if found is not None and found[0] == version:
                return found[1], True
            if found is not None and background:
                if key not in self.building:
                    thread = threading.Thread(
                        target=self._build_aside,
                        args=(key, version, build),
                        name=f"{self.name}-build",
                        daemon=True,
                    )
                    self.building[key] = thread
                    thread.start()
                return found[1], False
        value = build()
        self._keep(key, version, value)
        return value, True

    def _build_aside(self, key: tuple, version: tuple, build: Callable) -> None:
        from django.db import connection

        try:
            self._keep(key, version, build())
        finally:
            with self.lock:
                self.building.pop(key, None)
            connection.close()  # this thread's own connection

    def _keep(self, key: tuple, version: tuple, value) -> None:
        with self.lock:
            found = self.latest.get(key)
            if found is not None and found[0] > version:
                return
            self.latest.pop(key, None)
            self.latest[key] = (version, value)
            while len(self.latest) > self.size:
                self.latest.pop(next(iter(self.latest)))
        # The build's temporaries and the value it replaced are gone now.
        give_back_memory()

    def wait(self) -> None:
        """Until no build is running (tests and benchmarks)."""
        while True:
            with self.lock:
                threads = list(self.building.values())
            if not threads:
                return
            for thread in threads:
                thread.join()

    def clear(self) -> None:
        """Forget every value (after waiting for running builds)."""
        self.wait()
        with self.lock:
            self.latest.clear()
