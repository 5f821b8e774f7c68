"""The emulator's HTTP/1.1 server: a threaded server and a handler that routes, counts and writes replies."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from infra.local.emulator.replies import Reply, text_reply


class App(Protocol):
    """What the server needs of the emulator it serves (an AppstoreEmulator): routing, counting, and whether to log."""

    verbose: bool

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[str, Reply]:
        """Route one request; return the endpoint name (for stats) and the reply."""
        ...

    def count(self, endpoint: str, status: int) -> None:
        """Count one request in the stats."""
        ...


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server that knows its emulator."""

    daemon_threads = True
    emulator: App

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore a client that resets its connection (a killed run); report anything else as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Turns HTTP requests into AppstoreEmulator.handle calls; logs no query strings or tokens."""

    protocol_version = "HTTP/1.1"
    server_version = "appstore-emulator"
    sys_version = ""
    server: EmulatorServer

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        """Handle HEAD."""
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        """Handle POST."""
        self._dispatch("POST")

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        """Read the body, route, count and send the reply."""
        emulator = self.server.emulator
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            endpoint, reply = emulator.handle(method, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # the emulator must answer, like a real server would
            endpoint, reply = "error", text_reply(500, "Internal Server Error")
            self.log_message("emulator error: %s", type(exc).__name__)
        emulator.count(endpoint, reply.status)
        self._send(reply, head=method == "HEAD")

    def _send(self, reply: Reply, *, head: bool) -> None:
        """Write the reply; a truncated one announces the full length and stops at half."""
        chunks = iter([reply.body]) if isinstance(reply.body, bytes) else reply.body
        length = len(reply.body) if isinstance(reply.body, bytes) else reply.length
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            chunks = iter(())
        limit = length // 2 if reply.truncate else length
        sent = 0
        try:
            for chunk in chunks:
                part = chunk[: limit - sent]
                self.wfile.write(part)
                sent += len(part)
                if sent >= limit:
                    break
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if reply.truncate:
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log method, path without query string, and status when verbose."""
        if self.server.emulator.verbose:
            path = self.path.partition("?")[0]
            sys.stderr.write(f"{self.command} {path} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Log errors only when verbose (the stdlib would print request lines with queries)."""
        if self.server.emulator.verbose:
            sys.stderr.write("appstore-emulator: " + (format % args) + "\n")
