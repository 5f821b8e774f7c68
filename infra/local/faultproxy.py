"""A fault-injecting HTTP proxy in front of moto server: per-request decisions for S3 and Glue calls.

Each request is named by its AWS operation (`s3.PutObject`, `s3.CompleteMultipartUpload`,
`glue.CreatePartition`, ...) from its method, path, query and `X-Amz-Target`, then a decision
function answers it with an error reply, drops the connection without forwarding (`RESET`), or
forwards it to moto and drops the connection instead of answering (`UNACKED`: committed, but the
client never learns it), forwards it and answers with an error instead of moto's reply
(`AfterCommit(reply)`: committed, but the client is told it failed), or forwards it normally (None).
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from infra.local.awscalls import Call, ErrorReply, glue_error, name_call, s3_error
from infra.local.loopback import LoopbackServer

__all__ = [
    "RESET",
    "UNACKED",
    "AfterCommit",
    "Call",
    "Decision",
    "ErrorReply",
    "FaultProxy",
    "LoopbackServer",
    "glue_error",
    "name_call",
    "s3_error",
]

RESET = "reset"
UNACKED = "unacked"


class AfterCommit(NamedTuple):
    """Forward the request, then answer with this error instead of moto's reply."""

    reply: ErrorReply


Decision = ErrorReply | AfterCommit | str | None


class FaultProxy(LoopbackServer):
    """Forwards every request to moto server unless `decide` injects a fault for it; counts what it did."""

    def __init__(self, upstream: str, decide: Callable[[Call], Decision]) -> None:
        self.injected: list[tuple[str, str]] = []  # (method, path) of each faulted request
        self.forwarded: list[tuple[str, str]] = []
        self.faults: Counter[tuple[str, str]] = Counter()  # (operation, kind) -> count
        self.decide, self.lock = decide, threading.Lock()
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    parts = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _relay(self) -> None:
                body = self._body()
                call = name_call(self.command, self.path, dict(self.headers.items()))
                decision = proxy.decide(call)
                with proxy.lock:
                    forwarded = decision is None or decision == UNACKED  # AfterCommit is forwarded too, but counted as injected
                    (proxy.forwarded if forwarded else proxy.injected).append((self.command, self.path))
                    if decision is not None:
                        kind = (
                            decision
                            if isinstance(decision, str)
                            else f"committed-{decision.reply[0]}"
                            if isinstance(decision, AfterCommit)
                            else f"{decision[0]}"
                        )
                        proxy.faults[(call.operation, kind)] += 1
                if isinstance(decision, tuple) and not isinstance(decision, AfterCommit):
                    self._reply(decision[0], [("Content-Type", decision[1])], decision[2])
                    return
                if decision == RESET:
                    self._drop()
                    return
                status, kept, data, length = self._forward(body)
                if decision == UNACKED:
                    self._drop()
                    return
                if isinstance(decision, AfterCommit):
                    status, kept, data, length = decision.reply[0], [("Content-Type", decision.reply[1])], decision.reply[2], None
                self._reply(status, kept, data, length)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes, str | None]:
                skip = {"host", "expect", "connection", "transfer-encoding", "content-length"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                headers["Content-Length"] = str(len(body))
                upstream_conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
                try:
                    upstream_conn.request(self.command, self.path, body=body, headers=headers)
                    response = upstream_conn.getresponse()
                    data = response.read()
                finally:
                    upstream_conn.close()
                hop = ("transfer-encoding", "connection", "content-length")
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in hop]
                return response.status, kept, data, response.getheader("Content-Length") if self.command == "HEAD" else None

            def _drop(self) -> None:
                """Close the connection with a TCP reset, without answering."""
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

            def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes, length: str | None = None) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__("127.0.0.1", Handler)

    def reset_counts(self) -> Counter[tuple[str, str]]:
        """Return the fault counts so far and start counting afresh."""
        with self.lock:
            counts, self.faults = self.faults, Counter()
            self.injected.clear()
            self.forwarded.clear()
        return counts
