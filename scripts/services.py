"""Do PostgreSQL and Redis answer? Used by ``make run`` and ``make test`` before anything else.

    python scripts/services.py check            # exit 1, saying what to start, when one is down
    python scripts/services.py ensure-database  # create DATABASE_URL's database if it is missing

It reads DATABASE_URL and REDIS_URL from the environment; an unset or non-PostgreSQL
DATABASE_URL (the embedded SQLite default) and an unset REDIS_URL are not checked.
Only the standard library, psycopg2 and redis are used, so it runs before Django is set up.
"""

import os
import sys
from urllib.parse import unquote, urlparse

# The start commands of this machine kind's services (see the README, "Tests").
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "postgis"}


def _postgres_params(url: str) -> dict | None:
    parsed = urlparse(url)
    if parsed.scheme not in POSTGRES_SCHEMES:
        return None
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "dbname": unquote(parsed.path.lstrip("/")) or "postgres",
    }


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
            f"  Start it with:\n    {START_POSTGRES}"
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


def check() -> int:
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
    if problems:
        print("(.ci/run starts both when they are down.)", file=sys.stderr)
        return 1
    return 0


def ensure_database() -> int:
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


def main(argv: list[str]) -> int:
    commands = {"check": check, "ensure-database": ensure_database}
    if len(argv) != 2 or argv[1] not in commands:
        print(f"usage: {argv[0]} {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    return commands[argv[1]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
