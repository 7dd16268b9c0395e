"""Real servers on loopback for the tests: an SMTP server that collects mail, a webhook receiver,
an HTTP endpoint to script, and a Celery worker on a queue of its own."""

import email
import email.policy
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from django.conf import settings

from aftersales.celery import app as celery_app


class _Collector:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server():
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, collector.messages
    finally:
        controller.stop()


class LoopbackHTTPServer:
    """An HTTP server on 127.0.0.1, in a thread of its own for the length of a ``with`` block. A
    subclass answers each POST in ``answer``; ``url`` ends with the subclass's ``path``."""

    path = "/"

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.answer(self, body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{self.path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver(LoopbackHTTPServer):
    """A local endpoint that records each delivery and answers with the next status of ``answers``
    (200 once they run out)."""

    path = "/hooks/aftersales"

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.deliveries: list[dict] = []
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        self.deliveries.append({"headers": dict(request.headers), "body": body})
        status = self.answers.pop(0) if self.answers else 200
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()


@dataclass
class RunningWorker:
    process: "subprocess.Popen[bytes]"
    log: str = ""


@contextmanager
def celery_worker(*, python: str, env: dict[str, str], queue: str) -> Iterator[RunningWorker]:
    """A real Celery worker (solo pool, its own queue) started with ``python`` and ``env``, and this
    process's Celery app pointed at that queue and not eager, for the length of the block. The
    worker is stopped after; its output is then in ``log``."""
    command = [
        *(python, "-m", "celery", "-A", "aftersales", "worker", "-Q", queue),
        *("-c", "1", "-P", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"),
    ]
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    worker = RunningWorker(process)
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        worker.log = output.decode(errors="replace")
