"""The URL of a connection's database, for the processes a command or a test starts beside it."""

from urllib.parse import quote


def database_url(settings_dict: dict) -> str:
    """``DATABASE_URL`` for ``settings_dict`` (``connection.settings_dict``): a TCP host and port,
    or a Unix socket directory (the embedded server's) written as django-environ reads it,
    ``postgres://user@/%2Fpath%2Fto%2Fsocket-dir/name``."""
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += f":{quote(settings_dict['PASSWORD'], safe='')}"
    host = settings_dict["HOST"] or "127.0.0.1"
    name = quote(settings_dict["NAME"], safe="")
    if host.startswith("/"):
        return f"postgres://{credentials}@/{quote(host, safe='')}/{name}"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{name}"
