"""A real HTTP receiver on loopback for outbound-notification tests.

It records every request (path, headers, JSON body) and answers with the
next status from its script (then 200), optionally holding a request open.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str = ""
    statuses: list[int] = field(default_factory=list)
    hold_seconds: float = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)

    def keys(self) -> list[str]:
        return [r["headers"].get("Idempotency-Key", "") for r in self.requests]


@contextmanager
def receiver(*, statuses: list[int] | None = None, hold_seconds: float = 0) -> Iterator[Receiver]:
    state = Receiver(statuses=list(statuses or []), hold_seconds=hold_seconds)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
            )
            state.received.set()
            if state.hold_seconds:
                time.sleep(state.hold_seconds)
            status = state.statuses.pop(0) if state.statuses else 200
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender was killed while we held its request

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
