"""Faults a test can inject into a server of the scale world: a TCP proxy in front of it.

A test points Albumen at the proxy instead of the server (S3, PostgreSQL, Redis) and then cuts
the line (connections refused, open ones reset: the server went away), stalls it (connections
are taken but nothing comes back: a hung server or a network that drops packets) or slows it
(each chunk waits: a slow disk behind the server, or a long way to it), and restores it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from tests.live import free_port


class FaultyLine:
    """A loopback TCP proxy to ``upstream`` (``host:port``) whose line can be cut, stalled
    or slowed, and restored. Use it as a context manager."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._state = "open"
        self._delay = 0.0
        self._changed = threading.Condition()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._closing = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FaultyLine:
        self._listen()
        return self

    def __exit__(self, *_: object) -> None:
        self._closing = True
        self.cut()
        with self._changed:
            self._changed.notify_all()

    def cut(self) -> None:
        """The server is gone: new connections are refused and open ones reset."""
        with self._changed:
            self._state = "cut"
            listener, self._listener = self._listener, None
            live, self._sockets = self._sockets, set()
        if listener is not None:
            listener.close()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
                sock.close()  # linger 0: a reset, as when the far end is gone

    def stall(self) -> None:
        """The server hangs: connections are accepted, but nothing is forwarded either way."""
        self._set("stalled")

    def slow(self, seconds_per_chunk: float) -> None:
        """Every chunk of up to 16 KiB, either way, waits this long first."""
        self._delay = seconds_per_chunk
        self._set("open")

    def restore(self) -> None:
        """The line as it was: open, at full speed."""
        self._delay = 0.0
        self._set("open")
        if self._listener is None:
            self._listen()

    def _set(self, state: str) -> None:
        with self._changed:
            self._state = state
            self._changed.notify_all()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._changed:
                self._sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(16384):
                self._wait_while_stalled()
                if self._delay:
                    time.sleep(self._delay)
                sink.sendall(chunk)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _wait_while_stalled(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._state != "stalled" or self._closing)


@contextlib.contextmanager
def faulty_line(url: str) -> Iterator[FaultyLine]:
    """A ``FaultyLine`` in front of the ``http://host:port`` of ``url``."""
    host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    with FaultyLine(host, int(port)) as line:
        yield line
