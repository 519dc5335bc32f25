"""Media type detection from content (magic bytes), never from a file name or a header.

The detected type also fixes which FFmpeg demuxer may open the file: the decoder is never
left to guess a format, which closes the door on the exotic demuxers behind most FFmpeg CVEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.errors import UnsupportedMedia

#: Bytes needed to tell every supported type apart.
SNIFF_BYTES = 4096

MediaKind = Literal["video", "image"]


@dataclass(frozen=True)
class MediaType:
    kind: MediaKind
    ext: str
    mime: str
    #: FFmpeg demuxer allowed to open it (videos), or the Pillow format (images).
    demuxer: str


MP4 = MediaType("video", "mp4", "video/mp4", "mov")
MOV = MediaType("video", "mov", "video/quicktime", "mov")
WEBM = MediaType("video", "webm", "video/webm", "matroska")
MKV = MediaType("video", "mkv", "video/x-matroska", "matroska")
AVI = MediaType("video", "avi", "video/x-msvideo", "avi")
JPEG = MediaType("image", "jpg", "image/jpeg", "JPEG")
PNG = MediaType("image", "png", "image/png", "PNG")
WEBP = MediaType("image", "webp", "image/webp", "WEBP")

SUPPORTED: tuple[MediaType, ...] = (MP4, MOV, WEBM, MKV, AVI, JPEG, PNG, WEBP)
BY_EXT = {t.ext: t for t in SUPPORTED}
BY_MIME = {t.mime: t for t in SUPPORTED}
ALLOWED_DEMUXERS = frozenset(t.demuxer for t in SUPPORTED if t.kind == "video")

# ISO-BMFF brands that are still images or audio, not video.
_NON_VIDEO_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis", b"M4A ", b"M4B ", b"M4P ", b"jp2 "}
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def sniff(head: bytes) -> MediaType:
    """The supported media type of a file starting with `head`, else `UnsupportedMedia`."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF":
        if head[8:12] == b"WEBP":
            return WEBP
        if head[8:12] == b"AVI ":
            return AVI
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _NON_VIDEO_BRANDS:
            raise UnsupportedMedia(
                f"ISO media brand {brand.decode('latin-1').strip()!r} is not a supported video"
            )
        return MOV if brand == b"qt  " else MP4
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return MOV
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # EBML header: the DocType element (0x42 0x82) says webm or matroska.
        window = head[:256]
        if b"webm" in window:
            return WEBM
        if b"matroska" in window:
            return MKV
        raise UnsupportedMedia("EBML file that is neither Matroska nor WebM")
    raise UnsupportedMedia(
        "file content is not a supported media type "
        "(videos: mp4, mov, webm, mkv, avi; images: jpeg, png, webp)"
    )
