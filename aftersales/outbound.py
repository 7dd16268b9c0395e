"""Where outgoing calls may go (webhooks, a merchant's refund endpoint): public addresses only.

A merchant types a webhook or refund-endpoint URL; without a guard, a URL (or a name that resolves) to loopback, a
private network or the cloud's metadata address (169.254.169.254) would make our worker call into
our own network on their behalf. The address is checked when an endpoint is saved and again when
each delivery is made, since a name's DNS can change between the two; the delivery then connects
to the very addresses it checked (``GuardedHTTPHandler``), so a second lookup cannot swap them.
``OUTBOUND_ALLOW_PRIVATE_ADDRESSES`` turns the guard off (tests with a local receiver, or an
installation whose receivers live on its own network).
"""

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(ValueError):
    """The URL's host is, or resolves to, an address that is not public. A ValueError, not an
    OSError: urllib wraps OSErrors raised while connecting, and this must reach the outbox as is."""

    def __init__(self, host: str, address: str, kind: str):
        self.host, self.address, self.kind = host, address, kind
        shown = host if host == address else f"{host} ({address})"
        super().__init__(
            f"refused to connect to {shown}: not a public address ({kind}); outgoing calls go to public "
            "addresses only (OUTBOUND_ALLOW_PRIVATE_ADDRESSES is off)"
        )


def private_addresses_allowed() -> bool:
    return bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE_ADDRESSES", False))


def address_kind(address: str) -> str | None:
    """Why ``address`` is not public ("loopback", "private", …), or None for a public address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"  # private networks, and documentation and benchmarking ranges
    if not ip.is_global:
        return "non-public"  # shared address space (100.64.0.0/10) and the like
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"no host in {url!r}")
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def resolve_public(host: str, port: int) -> list[tuple]:
    """``getaddrinfo`` of ``host``, refused if any of its addresses is not public (a name with one
    public and one private address is refused: the connection could take either).
    ``socket.gaierror`` when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not private_addresses_allowed():
        for *_rest, sockaddr in infos:
            address = str(sockaddr[0]).split("%", 1)[0]
            kind = address_kind(address)
            if kind is not None:
                raise AddressRefused(host, address, kind)
    return infos


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise ``AddressRefused`` if ``url`` points at an address that is not public. A literal
    address is judged as it is; a name is looked up when ``resolve`` (a name that does not
    resolve raises ``socket.gaierror``)."""
    if private_addresses_allowed():
        return
    host, port = _host_and_port(url)
    try:
        kind = address_kind(host)
    except ValueError:  # a name, not an address
        if resolve:
            resolve_public(host, port)
        return
    if kind is not None:
        raise AddressRefused(host, host, kind)


def _connect_public(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *args, **kwargs):
    """``socket.create_connection`` that connects only to the public addresses it resolved itself."""
    host, port = address[0], address[1]
    error: OSError | None = None
    for family, kind, proto, _canonical, sockaddr in resolve_public(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"no address for {host}")


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_public


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_public


def _proxied(request: urllib.request.Request) -> bool:
    # Through a proxy the connection goes to the proxy, which resolves the name itself: the
    # target was checked before the call; the proxy's own address is the operator's choice.
    return request.has_proxy() or bool(getattr(request, "_tunnel_host", None))


class GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(http.client.HTTPConnection if _proxied(req) else _PublicHTTPConnection, req)


class GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(
            http.client.HTTPSConnection if _proxied(req) else _PublicHTTPSConnection, req, context=self._context
        )
