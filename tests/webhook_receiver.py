"""A real webhook receiver for the tests: an HTTP server on loopback that verifies every
request with the ``standardwebhooks`` library, as a subscriber's program would."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

#: A valid secret for tests (32 random bytes, base64), in the ``whsec_`` format.
TEST_SECRET = "whsec_8hRw2t1qWc0r9D6yY3mV5bK7nJ4pL2sX0aZ1eC6fG8I="


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: when more senders connect at once, the
    # kernel drops their SYNs and they retry a second later, which is not the sender's
    # doing. A real receiver listens with a deep backlog.
    request_queue_size = 128


@dataclass
class Received:
    """One request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    #: The verified payload, or None when verification failed.
    payload: dict[str, Any] | None
    error: str | None

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Receiver:
    """Answers every POST with ``reply(received)`` (default 204) after verifying it."""

    def __init__(self, secret: str = TEST_SECRET, port: int = 0) -> None:
        self.secret = secret
        self.received: list[Received] = []
        #: Requests cut off before their body was complete (never handed on).
        self.incomplete = 0
        self.reply: Callable[[Received], Reply] = lambda _r: Reply()
        self.lock = threading.Lock()
        #: Set each time a request arrives (tests wait on it instead of sleeping).
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-request (the crash test kills it): like any HTTP
                    # server, drop the incomplete request instead of handing it on.
                    receiver.incomplete += 1
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    error = None
                except WebhookVerificationError as e:
                    payload, error = None, str(e)
                got = Received(headers, body, payload, error)
                with receiver.lock:
                    receiver.received.append(got)
                receiver.arrived.set()
                reply = receiver.reply(got)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the sender went away (killed): fine

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def verified(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.payload for r in self.received if r.payload is not None]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def body_of(received: Received) -> dict[str, Any]:
    return json.loads(received.body)
