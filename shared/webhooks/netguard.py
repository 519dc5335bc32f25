"""SSRF guard for callback URLs.

A callback URL is supplied by an API client but fetched from inside the deployment, where it
could reach the metadata service, the database or an admin port. So: http(s) only; the host
is resolved when the request is sent and refused if ANY of its addresses is loopback,
private, link-local, multicast, reserved or otherwise not globally routable (IPv4-mapped,
6to4, Teredo and NAT64 forms are unwrapped first), unless an operator listed its network in
`webhook_allowed_networks`. The request then goes to the address that was checked (no second
lookup an attacker's DNS could answer differently), redirects are never followed.

At submit time only what needs no DNS is checked (IP literals in any notation, `localhost`),
so an obviously internal URL is refused with a 422 before a job exists.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import DFSError, InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2048


class CallbackRefused(DFSError):
    """The callback URL points somewhere this deployment will not send requests to."""

    slug = "callback-refused"
    title = "Callback URL refused"
    status = 422
    exit_code = 2


class CallbackUnresolvable(DFSError):
    """The callback host has no address right now (DNS failure): worth retrying."""

    slug = "callback-unresolvable"
    title = "Callback host could not be resolved"
    status = 502
    transient = True


@dataclass(frozen=True)
class Target:
    """Where a checked callback request really goes."""

    scheme: str
    host: str  # as written in the URL (Host header, TLS SNI)
    port: int
    address: str  # the vetted IP the connection is made to
    path: str  # path + query

    @property
    def pinned_url(self) -> str:
        addr = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{addr}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _unwrap(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why `ip` may not be called back (None if it is a public address)."""
    inner = _unwrap(ip)
    for candidate in {ip, inner}:
        for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
            if getattr(candidate, f"is_{name}"):
                return name.replace("_", "-")
        if not candidate.is_global:
            return "not globally routable"
    return None


def _allowed(ip: IPAddress, networks: Sequence[str]) -> bool:
    inner = _unwrap(ip)
    for net in networks:
        network = ipaddress.ip_network(net, strict=False)
        if ip in network or inner in network:
            return True
    return False


def check_address(ip: IPAddress, allowed_networks: Sequence[str]) -> str | None:
    """None if a request may go to `ip`, else the reason it may not."""
    if _allowed(ip, allowed_networks):
        return None
    reason = forbidden_reason(ip)
    return f"{ip} is {reason}" if reason else None


def _literal_address(host: str) -> IPAddress | None:
    """The address `host` denotes without DNS (dotted, integer, hex, IPv6 forms), if any."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0]) if infos else None


def _refuse(message: str) -> InvalidRequest:
    return InvalidRequest(f"callback_url {message}", [{"field": "callback_url", "message": message}])


def validate_callback_url(url: str | None, allowed_networks: Sequence[str]) -> str | None:
    """Submit-time check (no DNS). Returns the normalised URL, None when absent; else a 422
    problem naming `callback_url`."""
    if url is None or url.strip() == "":
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise _refuse(f"is not a valid URL ({exc})") from exc
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not host:
        raise _refuse("must be an absolute http(s) URL")
    # One spelling of a name: `localhost.` (the absolute form) and `LOCALHOST` are localhost.
    host = host.rstrip(".").lower()
    if not host:
        raise _refuse("must be an absolute http(s) URL")
    if host == "localhost" or host.endswith(".localhost"):
        ip: IPAddress | None = ipaddress.ip_address("127.0.0.1")
    else:
        ip = _literal_address(host)
    if ip is not None:
        reason = check_address(ip, allowed_networks)
        if reason:
            raise _refuse(f"points to a non-public address ({reason}); callbacks go to public hosts only")
    return url


def resolve_target(url: str, allowed_networks: Sequence[str]) -> Target:
    """Send-time check: resolve the host and vet every address it has."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise CallbackRefused("callback_url must be an absolute http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackUnresolvable(f"could not resolve {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise CallbackUnresolvable(f"{host} has no address")
    for ip in addresses:
        reason = check_address(ip, allowed_networks)
        if reason:
            raise CallbackRefused(f"callback host {host} resolves to a non-public address ({reason})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]), path=path)
