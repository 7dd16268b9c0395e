"""Real servers on loopback for the tests: an SMTP server that collects mail, a Dovecot IMAP
server with a maildir, a webhook receiver, an HTTP endpoint to script, and a Celery worker on a
queue of its own."""

import email
import email.policy
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


# How long a worker may take to start (import, connect, answer a ping) before the test gives up.
WORKER_START_SECONDS = 180


@contextmanager
def celery_worker(*, python: str, env: dict[str, str], queue: str) -> Iterator[RunningWorker]:
    """A real Celery worker (solo pool, its own queue) started with ``python`` and ``env``, and this
    process's Celery app pointed at that queue and not eager, for the length of the block. The
    block starts once the worker answers a ping: what a test then times is the delivery, not the
    worker's start-up, which on a loaded machine (and from a virtualenv never byte-compiled) took
    up to two thirds of the 30 s the tests give a delivery. The worker is stopped after; its
    output is then in ``log``."""
    node = f"{queue}@aftersales-test"
    command = [
        *(python, "-m", "celery", "-A", "aftersales", "worker", "-Q", queue, "-n", node),
        *("-c", "1", "-P", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"),
    ]
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    worker = RunningWorker(process)
    give_up = time.monotonic() + WORKER_START_SECONDS
    while not celery_app.control.ping(destination=[node], timeout=0.5):
        if process.poll() is not None or time.monotonic() > give_up:
            process.kill()
            output, _ = process.communicate()
            raise RuntimeError(f"The Celery worker did not start:\n{output.decode(errors='replace')[-4000:]}")
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


DOVECOT = "/usr/sbin/dovecot"


@dataclass
class ImapServer:
    """A running Dovecot: one passwd-file user with a maildir under ``root``."""

    host: str
    port: int
    username: str
    password: str
    root: Path
    uid: int
    gid: int

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / self.username / "Maildir"

    def deliver(self, raw: bytes) -> Path:
        """Drop a message into the maildir's ``new/``, as a local delivery agent would."""
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.aftersales-test"
        staging = self.maildir / "tmp" / name
        staging.write_bytes(raw)
        final = self.maildir / "new" / name
        staging.rename(final)
        if os.geteuid() == 0:
            for path in (self.root / "mail", self.root / "mail" / self.username, self.maildir, final):
                os.chown(path, self.uid, self.gid)
            for sub in ("new", "cur", "tmp"):
                os.chown(self.maildir / sub, self.uid, self.gid)
        return final


def _dovecot_config(root: Path, port: int, *, mail_user: str, mail_group: str, uid: int, gid: int) -> str:
    # Root may run the master, but Dovecot refuses root for logins and mail: as root, the
    # package's own unprivileged users take those parts.
    login_user = "dovenull" if os.geteuid() == 0 else mail_user
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = {mail_user}
default_internal_group = {mail_group}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {pwd.getpwuid(os.geteuid()).pw_name}
}}
"""


@contextmanager
def imap_server(*, username: str = "support@shop.test", password: str = "imap-secret"):  # noqa: S107 (a throwaway test server)
    """A real Dovecot IMAP server on a free loopback port with its own config, user and maildir
    in a directory of its own; stopped and removed after the block.

    The directory is made here rather than under pytest's ``tmp_path``: run as root, the mail
    processes run as Dovecot's own user, which must be able to reach the maildir."""
    if os.geteuid() == 0:
        owner = pwd.getpwnam("dovecot")
        mail_user, uid, gid = owner.pw_name, owner.pw_uid, owner.pw_gid
    else:
        owner = pwd.getpwuid(os.geteuid())
        mail_user, uid, gid = owner.pw_name, owner.pw_uid, os.getgid()
    mail_group = grp.getgrgid(gid).gr_name
    root = Path(tempfile.mkdtemp(prefix="aftersales-dovecot-"))
    root.chmod(0o711)
    (root / "mail").mkdir()
    (root / "passwd").write_text(f"{username}:{{PLAIN}}{password}\n")
    if os.geteuid() == 0:
        os.chown(root / "mail", uid, gid)
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, port, mail_user=mail_user, mail_group=mail_group, uid=uid, gid=gid))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(
                    f"Dovecot did not start: {process.stdout.read().decode() if process.stdout else ''}{log}"
                )
            time.sleep(0.05)
        yield ImapServer("127.0.0.1", port, username, password, root, uid, gid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)
