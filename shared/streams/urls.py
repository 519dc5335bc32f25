"""Stream URLs: which may be read, how credentials are hidden, and where ffmpeg may connect.

A stream URL is a request made from inside the deployment, like a webhook, so it goes through
the same SSRF guard (`shared/webhooks/netguard.py`): every address the host resolves to must be
public unless an operator listed its network in `stream_allowed_networks`. Only the protocols
of live video are accepted (rtsp, rtmp(s), srt, http(s) for HLS or MPEG-TS); ffmpeg is given a
protocol allow-list and a forced demuxer for that scheme, so a playlist can never make it open
`file:`, `concat:`, `subfile:`, `data:` or `pipe:`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.errors import InvalidRequest
from shared.webhooks.netguard import MAX_URL_LENGTH, IPAddress, check_address

#: scheme -> (ffmpeg protocol whitelist, forced demuxer). http(s) is HLS when the path ends in
#: .m3u8, else an MPEG-TS byte stream.
SCHEMES: dict[str, tuple[str, str]] = {
    "rtsp": ("rtsp,rtp,srtp,udp,tcp", "rtsp"),
    "rtmp": ("rtmp,tcp", "flv"),
    "rtmps": ("rtmps,rtmp,tls,tcp", "flv"),
    "srt": ("srt,udp", "mpegts"),
    "http": ("http,tcp", "mpegts"),
    "https": ("https,http,tls,tcp", "mpegts"),
}
HLS_PROTOCOLS = {"http": "http,tcp,crypto", "https": "https,http,tls,tcp,crypto"}
FORBIDDEN_PROTOCOLS = frozenset({"file", "concat", "concatf", "subfile", "data", "pipe", "fd", "cache"})
SECRET_PARAMS = re.compile(r"(pass|pwd|secret|token|key|auth|sig|credential)", re.IGNORECASE)


class StreamRefused(InvalidRequest):
    """The stream URL is not one this deployment will read (422, names `url`)."""

    slug = "stream-url-refused"
    title = "Stream URL refused"

    def __init__(self, message: str) -> None:
        super().__init__(f"url {message}", [{"field": "url", "message": message}])


def redact(url: str) -> str:
    """`url` without credentials: user:password@ and secret-looking query values become ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def scrub(text: str, url: str) -> str:
    """`text` (an ffmpeg diagnostic) with the URL's credentials removed."""
    out = text.replace(url, redact(url))
    parts = urlsplit(url)
    for secret in (parts.password, parts.username):
        if secret and len(secret) >= 3:
            out = out.replace(secret, "***")
    for k, v in parse_qsl(parts.query):
        if SECRET_PARAMS.search(k) and len(v) >= 3:
            out = out.replace(v, "***")
    return out


def is_hls(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in HLS_PROTOCOLS and parts.path.lower().endswith(".m3u8")


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise StreamRefused(
            f"host {host} could not be resolved ({getattr(exc, 'strerror', None) or exc})"
        ) from exc
    found: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise StreamRefused(f"host {host} has no address")
    return found


def default_port(scheme: str) -> int:
    return {"rtsp": 554, "rtmp": 1935, "rtmps": 443, "srt": 9000, "http": 80, "https": 443}[scheme]


@dataclass(frozen=True)
class IngestTarget:
    """What ffmpeg is told: the URL (its host pinned to the vetted address where the protocol
    allows), the protocol allow-list and the demuxer, and extra input options."""

    url: str
    protocols: str
    demuxer: str
    options: list[str] = field(default_factory=list)
    address: str = ""


def validate_stream_url(url: str, allowed_networks: Sequence[str]) -> str:
    """Syntax, scheme and the address check (with DNS) of a submitted URL; returns it stripped.
    Raises `StreamRefused` (422)."""
    url = (url or "").strip()
    if not url:
        raise StreamRefused("is required")
    if len(url) > MAX_URL_LENGTH:
        raise StreamRefused(f"is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (default_port(parts.scheme) if parts.scheme in SCHEMES else 0)
    except ValueError as exc:
        raise StreamRefused(f"is not a valid URL ({exc})") from exc
    if parts.scheme not in SCHEMES:
        allowed = ", ".join(sorted(SCHEMES))
        raise StreamRefused(f"scheme {parts.scheme or '(none)'!r} is not allowed; use one of {allowed}")
    if not host:
        raise StreamRefused("has no host")
    if any(c in url for c in ("\n", "\r", " ", "|")):
        raise StreamRefused("contains characters a URL may not contain")
    vet_host(host, port, allowed_networks)
    return url


def vet_host(host: str, port: int, allowed_networks: Sequence[str]) -> IPAddress:
    """Every address of `host` must be allowed; returns the first (the one to pin)."""
    if host == "localhost" or host.endswith(".localhost"):
        addresses: list[IPAddress] = [ipaddress.ip_address("127.0.0.1")]
    else:
        addresses = _addresses(host, port)
    for ip in addresses:
        reason = check_address(ip, allowed_networks)
        if reason:
            raise StreamRefused(
                f"host {host} resolves to a non-public address ({reason}); streams are read from public"
                " hosts only unless the operator allow-lists the network (DFS_STREAM_ALLOWED_NETWORKS)"
            )
    return addresses[0]


def ingest_target(url: str, allowed_networks: Sequence[str]) -> IngestTarget:
    """Resolve and vet the host again right before ffmpeg connects, and pin the address: the
    URL ffmpeg gets names the vetted IP (http keeps the host in a Host header). https keeps the
    host name (TLS needs it): there the check and ffmpeg's own lookup are separate."""
    validate_stream_url(url, allowed_networks)
    parts = urlsplit(url)
    assert parts.hostname is not None
    port = parts.port or default_port(parts.scheme)
    ip = vet_host(parts.hostname, port, allowed_networks)
    protocols, demuxer = SCHEMES[parts.scheme]
    options: list[str] = []
    if is_hls(url):
        protocols, demuxer = HLS_PROTOCOLS[parts.scheme], "hls"
    pinned = url
    if parts.scheme not in ("https", "rtmps"):
        addr = f"[{ip}]" if ip.version == 6 else str(ip)
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        pinned = urlunsplit((parts.scheme, f"{userinfo}{addr}:{port}", parts.path, parts.query, ""))
        if parts.scheme == "http":
            host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
            options += ["-headers", f"Host: {host_header}\r\n"]
    for proto in protocols.split(","):
        assert proto not in FORBIDDEN_PROTOCOLS
    return IngestTarget(url=pinned, protocols=protocols, demuxer=demuxer, options=options, address=str(ip))
