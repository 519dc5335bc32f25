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
    if is_hls(url):
        vet_hls(url, allowed_networks)
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
    validate_stream_url(url, allowed_networks)  # for HLS: the redirects and the playlist's URIs too
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


# --- HLS playlists: redirects and the URIs inside are vetted too --------------------------------

MAX_PLAYLIST_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
PLAYLIST_TIMEOUT_S = 5.0


def _fetch_pinned(url: str, ip: IPAddress, timeout_s: float) -> tuple[int, str | None, bytes]:
    """GET `url` from the vetted address `ip` (no redirect followed): status, Location, body."""
    import httpx

    parts = urlsplit(url)
    assert parts.hostname is not None
    port = parts.port or default_port(parts.scheme)
    addr = f"[{ip}]" if ip.version == 6 else str(ip)
    pinned = urlunsplit((parts.scheme, f"{addr}:{port}", parts.path or "/", parts.query, ""))
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    headers = {"host": host}
    if parts.username:
        import base64
        from urllib.parse import unquote

        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["authorization"] = "Basic " + base64.b64encode(token).decode()
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
        response = client.send(request, stream=True)
        try:
            body = bytearray()
            if response.status_code == 200:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_PLAYLIST_BYTES:
                        raise StreamRefused(f"playlist is larger than {MAX_PLAYLIST_BYTES} bytes")
            return response.status_code, response.headers.get("location"), bytes(body)
        finally:
            response.close()


def vet_hls(url: str, allowed_networks: Sequence[str], timeout_s: float = PLAYLIST_TIMEOUT_S) -> str:
    """Fetch an HLS playlist the way the ingest would, re-checking every redirect's host and
    every URI the playlist names (variant playlists, segments, keys) with the same guard.
    Returns the final playlist URL (after vetted redirects). Network failures are not refusals
    (the source may not be up yet): the ingest's reconnect loop deals with them."""
    from urllib.parse import urljoin

    import httpx

    current = url
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        if parts.scheme not in HLS_PROTOCOLS or not parts.hostname:
            raise StreamRefused(f"playlist redirects to a non-http(s) URL ({redact(current)})")
        ip = vet_host(parts.hostname, parts.port or default_port(parts.scheme), allowed_networks)
        try:
            status, location, body = _fetch_pinned(current, ip, timeout_s)
        except httpx.HTTPError:
            return current
        if status in (301, 302, 303, 307, 308) and location:
            current = urljoin(current, location)
            continue
        if status != 200:
            return current
        for line in body.decode("utf-8", "replace").splitlines():
            line = line.strip()
            uris = re.findall(r'URI="([^"]+)"', line) if line.startswith("#") else [line] if line else []
            for uri in uris:
                target = urljoin(current, uri)
                t = urlsplit(target)
                if t.scheme not in HLS_PROTOCOLS or not t.hostname:
                    raise StreamRefused(f"playlist names a URI that is not http(s) ({redact(target)})")
                if t.hostname != parts.hostname:
                    vet_host(t.hostname, t.port or default_port(t.scheme), allowed_networks)
        return current
    raise StreamRefused(f"playlist redirects more than {MAX_REDIRECTS} times")
