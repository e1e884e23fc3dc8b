"""Annotate's matcher and the similar-terms index, in one process for all.

Both structures are derived from the whole glossary and are large: at 100,000
terms the matcher holds about 110 MB and the index about 430 MB. Kept in every
server process, they would multiply with the workers. With
``GLOSSARY_DERIVED_SOCKET`` set (``make serve`` sets it), one process
(``manage.py derived``) keeps them and the server processes ask it over that
Unix socket; without it (tests, ``make dev``), each process keeps its own, as
before. A server process that cannot reach the derived process answers from
its own copy (and logs why), so annotate and suggestions keep working.

The questions carry what decides the answer (the statuses a reader may see,
the glossary's stamp), so the derived process builds and keeps structures per
glossary version exactly as a server process would (``terms.text.aside``: the
previous one answers while the next is built).

A message is a JSON header and a payload of bytes, each preceded by its
length (4 bytes, big-endian): a text to annotate goes as its UTF-8 bytes and
the spans come back as an array of 32-bit numbers, neither escaped nor parsed
as JSON (those two cost a third of the round trip for 100 KB). The socket is
made readable by its owner only.
"""

import contextlib
import json
import logging
import os
import socket
import socketserver
import struct
import threading
import time
from array import array

from django.conf import settings

from terms.text.annotation import BudgetSpent, find_spans, glossary_matcher
from terms.text.matcher import Candidate, Span
from terms.text.similarity import similarity_index_fresh

__all__ = ["annotate_spans", "make_server", "serve", "similar_terms"]

_LENGTHS = struct.Struct(">II")  # the header's, the payload's
#: Spans travel as unsigned 32-bit numbers (a text is at most a few MB).
_NUMBERS = "I"
#: The longest message either side accepts (a 1 MB text, escaped, and more).
MAX_MESSAGE = 64 * 1024 * 1024
_log = logging.getLogger(__name__)


# --- what the server processes call ---


def annotate_spans(statuses: list[str], version_key: tuple, text: str) -> list[Span]:
    """The spans of ``text`` for the terms in ``statuses`` at ``version_key``.

    Bounded by annotate's budget (``GLOSSARY_ANNOTATE_BUDGET_SECONDS``): the
    derived process stops past it (``BudgetSpent``), and a derived process that
    does not answer within it (hung, stopped) is left for the local copy.
    """
    budget = settings.GLOSSARY_ANNOTATE_BUDGET_SECONDS
    answer = _ask(
        {"op": "spans", "statuses": statuses, "version": version_key, "budget": budget},
        text.encode(),  # the parser refused lone surrogates
        timeout=budget + 1,
    )
    if answer is None:
        return _spans(statuses, version_key, text, budget)
    reply, payload = answer
    if reply.get("spent"):
        raise BudgetSpent(budget)
    forms = [
        (key, tuple(_candidate(*c) for c in candidates))
        for key, candidates in reply["forms"]
    ]
    flat = array(_NUMBERS, payload)
    return [
        Span(flat[at], flat[at + 1], *forms[flat[at + 2]])
        for at in range(0, len(flat), 3)
    ]


def _candidate(slug, matched_on, match, case) -> Candidate:
    return Candidate(slug, matched_on, match, tuple(case) if case is not None else None)


def similar_terms(
    statuses: list[str], stamp_token: str, slug: str, limit: int
) -> tuple[list[tuple[str, float]], bool]:
    """``(ranked, fresh)``: the terms most like ``slug`` with their scores, and
    whether they come from this glossary version's index."""
    answer = _ask(
        {
            "op": "similar",
            "statuses": statuses,
            "stamp": stamp_token,
            "slug": slug,
            "limit": limit,
        },
        timeout=settings.GLOSSARY_DERIVED_TIMEOUT,
    )
    if answer is None:
        return _similar(statuses, stamp_token, slug, limit)
    reply, _ = answer
    return [(other, score) for other, score in reply["ranked"]], reply["fresh"]


def _spans(statuses, version_key, text, budget=None) -> list[Span]:
    matcher = glossary_matcher(statuses, tuple(version_key))
    return find_spans(matcher, text, budget=budget)


def _similar(statuses, stamp_token, slug, limit):
    index, fresh = similarity_index_fresh(statuses, stamp_token)
    return index.similar(slug, limit), fresh


# --- asking the derived process ---


class _Connection:
    """One process's connection to the derived process (one question at a time)."""

    def __init__(self, path: str):
        self.path = path
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()

    def ask(self, message: dict, payload: bytes, timeout: float) -> tuple[dict, bytes]:
        # The lock is waited for within the same timeout: a question stuck on a
        # hung derived process must not queue the worker's other threads.
        if not self.lock.acquire(timeout=timeout):
            raise TimeoutError("another question to the derived process is waiting")
        try:
            for attempt in range(2):
                try:
                    if self.sock is None:
                        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        sock.settimeout(timeout)
                        sock.connect(self.path)
                        self.sock = sock
                    self.sock.settimeout(timeout)
                    _send(self.sock, message, payload)
                    return _receive(self.sock)
                except TimeoutError:
                    # Its answer may still come: this connection is spoilt.
                    self.close()
                    raise
                except OSError:
                    self.close()
                    if attempt:  # a fresh connection failed too
                        raise
        finally:
            self.lock.release()
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


_connections: dict[tuple[int, str], _Connection] = {}
_connections_lock = threading.Lock()
_warned_at = 0.0


#: After the derived process failed to answer in time, this process answers
#: from its own copy this long before asking it again.
PAUSE_SECONDS = 5.0
_paused_until = 0.0


def _ask(
    message: dict, payload: bytes = b"", *, timeout: float
) -> tuple[dict, bytes] | None:
    """The derived process's answer and its payload; None without one (not
    configured, or not answering within ``timeout`` seconds: the caller
    computes it itself)."""
    global _warned_at, _paused_until
    path = settings.GLOSSARY_DERIVED_SOCKET
    if not path or time.monotonic() < _paused_until:
        return None
    key = (os.getpid(), path)  # a socket must not cross a fork
    with _connections_lock:
        connection = _connections.setdefault(key, _Connection(path))
    try:
        reply, answered = connection.ask(message, payload, timeout)
    except OSError as error:
        if isinstance(error, TimeoutError):
            _paused_until = time.monotonic() + PAUSE_SECONDS
        if time.monotonic() - _warned_at > 60:
            _warned_at = time.monotonic()
            _log.warning("the derived process at %s did not answer (%s)", path, error)
        return None
    if "error" in reply:
        raise RuntimeError(f"the derived process failed: {reply['error']}")
    return reply, answered


def _send(sock: socket.socket, message: dict, payload: bytes = b"") -> None:
    header = json.dumps(message, ensure_ascii=False).encode()
    sock.sendall(_LENGTHS.pack(len(header), len(payload)) + header + payload)


def _receive(sock: socket.socket) -> tuple[dict, bytes]:
    header, payload = _LENGTHS.unpack(_exactly(sock, _LENGTHS.size))
    if header + payload > MAX_MESSAGE:
        raise ConnectionError(
            f"a message of {header + payload} bytes is over the limit"
        )
    return json.loads(_exactly(sock, header)), _exactly(sock, payload)


def _exactly(sock: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


# --- the derived process ---


def _answer(message: dict, payload: bytes) -> tuple[dict, bytes]:
    if message.get("op") == "spans":
        try:
            spans = _spans(
                message["statuses"],
                message["version"],
                payload.decode(),
                message.get("budget"),
            )
        except BudgetSpent:
            return {"spent": True}, b""
        # Hundreds of spans name a few dozen (key, candidates) forms: each
        # form goes once, and a span is three numbers (writing and reading
        # every span's candidates was most of the round trip's cost).
        forms: dict[tuple, int] = {}
        flat: list[int] = []
        for span in spans:
            ref = forms.setdefault((span.key, span.candidates), len(forms))
            flat += (span.start, span.end, ref)
        header = {
            "forms": [
                [key, [list(_fields(c)) for c in candidates]]
                for key, candidates in forms
            ]
        }
        return header, array(_NUMBERS, flat).tobytes()
    if message.get("op") == "similar":
        ranked, fresh = _similar(
            message["statuses"], message["stamp"], message["slug"], message["limit"]
        )
        return {"ranked": ranked, "fresh": fresh}, b""
    return {"error": f"unknown question {message.get('op')!r}"}, b""


def _fields(candidate: Candidate) -> tuple:
    return (candidate.slug, candidate.matched_on, candidate.match, candidate.case)


class _Handler(socketserver.BaseRequestHandler):
    def setup(self) -> None:
        self.server.open[self.request] = threading.current_thread()

    def finish(self) -> None:
        from django.db import connections

        self.server.open.pop(self.request, None)
        connections.close_all()  # this thread's, opened for its answers

    def handle(self) -> None:
        from django.db import close_old_connections

        while True:
            try:
                message, payload = _receive(self.request)
            except (OSError, ValueError):
                return  # the server process went away
            close_old_connections()
            try:
                reply, answered = _answer(message, payload)
            except Exception as error:  # answered, and logged here
                _log.exception("a question to the derived process failed")
                reply, answered = {"error": f"{type(error).__name__}: {error}"}, b""
            try:
                _send(self.request, reply, answered)
            except OSError:
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, *args):
        super().__init__(*args)
        #: The server processes' connections now open, and their threads.
        self.open: dict[socket.socket, threading.Thread] = {}

    def stop(self) -> None:
        """Stop answering: no new connections, open ones closed (and their
        threads, with their database connections, ended)."""
        self.shutdown()
        handlers = list(self.open.items())
        for sock, _ in handlers:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in handlers:
            thread.join(timeout=10)
        self.server_close()


def make_server(path: str) -> socketserver.UnixStreamServer:
    """The derived process's server on the Unix socket ``path`` (owner only)."""
    if os.path.exists(path):
        os.unlink(path)  # left by a process that stopped without cleaning up
    previous = os.umask(0o077)  # the owner alone may connect
    try:
        return _Server(path, _Handler)
    finally:
        os.umask(previous)


def serve(path: str, ready=None) -> None:
    """Answer the server processes on the Unix socket ``path`` until stopped."""
    server = make_server(path)
    try:
        if ready is not None:
            ready()
        server.serve_forever()
    finally:
        server.server_close()
        if os.path.exists(path):
            os.unlink(path)
