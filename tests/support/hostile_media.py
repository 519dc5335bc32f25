"""An attack corpus of hostile media, generated on the spot with ffmpeg and Python (nothing
binary is committed): truncated and corrupt containers, renamed text, polyglots, playlists that
point at local files and loopback URLs, external data references, absurd dimensions and
durations, decompression bombs, tiny frames, odd frame rates, rotation, audio only, many
streams, and the codecs an honest user may send (VP9 with alpha, 10-bit H.264/HEVC, AV1).

Each kind names the outcomes it may have. An outcome is a problem slug (`unsupported-media`,
`corrupt-media`, `media-too-large`, `invalid-request`) or `ok` (analysed: a verdict, `no_face`
included). `/problems/internal` and the other server-side slugs are never acceptable.

    python -m tests.support.hostile_media OUT_DIR    # writes the corpus, prints one line per kind
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OK = "ok"
UNSUPPORTED = "unsupported-media"
CORRUPT = "corrupt-media"
TOO_LARGE = "media-too-large"
INVALID = "invalid-request"

#: Outcomes that mean "the service understood the file was bad" (or analysed it).
CLIENT_OUTCOMES = frozenset({OK, UNSUPPORTED, CORRUPT, TOO_LARGE, INVALID})
#: The CLI's exit code of each outcome (README: 3 unsupported, 4 undecodable, 5 too large).
EXIT_CODES = {OK: 0, INVALID: 2, UNSUPPORTED: 3, CORRUPT: 4, TOO_LARGE: 5}


@dataclass(frozen=True)
class Context:
    """What generators may need: where to write, and a loopback address that must never be
    contacted (a listener counts connections)."""

    out: Path
    probe_url: str


@dataclass(frozen=True)
class Kind:
    name: str
    filename: str
    make: Callable[[Context, Path], object]
    outcomes: frozenset[str]
    #: ffmpeg encoders the generator needs (the kind is skipped, loudly, where one is missing)
    encoders: tuple[str, ...] = ()


# --- building blocks -------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)}: {proc.stderr.decode(errors='replace')[-500:]}")


def testsrc(size: str = "160x120", seconds: float = 1.0, rate: int = 10) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}"]


def x264(*extra: str) -> list[str]:
    return ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra]


def clip(path: Path, size: str = "160x120", seconds: float = 1.0, *extra: str) -> None:
    ffmpeg(*testsrc(size, seconds), *x264(), *extra, str(path))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_header(width: int, height: int, colour: int = 2) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    )


def jpeg_bytes(size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 80)).save(buf, format="JPEG", **save)
    return buf.getvalue()


def _patch_first(data: bytearray, marker: bytes, offset: int, value: bytes) -> None:
    at = data.find(marker)
    if at < 0:
        raise RuntimeError(f"marker {marker!r} not found")
    data[at + offset : at + offset + len(value)] = value


# --- generators ------------------------------------------------------------------------------


def _write(content: bytes) -> Callable[[Context, Path], object]:
    return lambda ctx, path: path.write_bytes(content)


def _truncated(maker: Callable[[Path], None], keep: float) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        whole = path.with_suffix(".whole" + path.suffix)
        maker(whole)
        data = whole.read_bytes()
        path.write_bytes(data[: max(16, int(len(data) * keep))])
        whole.unlink()

    return make


def _mp4(path: Path) -> None:
    clip(path)


def _mp4_faststart(path: Path) -> None:
    clip(path, "160x120", 1.0, "-movflags", "+faststart")


def _mkv(path: Path) -> None:
    clip(path)


def _webm(path: Path) -> None:
    ffmpeg(*testsrc(), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", str(path))


def _avi(path: Path) -> None:
    ffmpeg(*testsrc(), "-c:v", "mjpeg", "-q:v", "5", str(path))


def _png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (64, 48), (10, 200, 30)).save(path, format="PNG")


def corrupt_middle(ctx: Context, path: Path) -> None:
    _mp4_faststart(path)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 2048] = bytes((i * 37) & 0xFF for i in range(2048))
    path.write_bytes(bytes(data))


def html_polyglot_mp4(ctx: Context, path: Path) -> None:
    whole = path.with_suffix(".tmp.mp4")
    clip(whole)
    path.write_bytes(b"<html><script>alert(1)</script></html>\n" + whole.read_bytes())
    whole.unlink()


def jpeg_zip_polyglot(ctx: Context, path: Path) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../etc/evil.sh", "#!/bin/sh\necho pwned\n")
    path.write_bytes(jpeg_bytes() + buf.getvalue())


def jpeg_html_comment(ctx: Context, path: Path) -> None:
    data = jpeg_bytes()
    comment = b"<script>alert(document.cookie)</script>"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    path.write_bytes(data[:2] + segment + data[2:])


def hls(target: str) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        url = target.format(probe=ctx.probe_url)
        path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{url}\n#EXT-X-ENDLIST\n")

    return make


def ffconcat(target: str) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        path.write_text(f"ffconcat version 1.0\nfile '{target.format(probe=ctx.probe_url)}'\n")

    return make


def mp4_with_hls_inside(ctx: Context, path: Path) -> None:
    """A real MP4 ftyp box followed by an HLS playlist: sniffed as MP4, opened only as MP4."""
    ftyp = struct.pack(">I", 20) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isom"
    playlist = f"#EXTM3U\n#EXTINF:1,\n{ctx.probe_url}/seg.ts\n#EXT-X-ENDLIST\n".encode()
    path.write_bytes(ftyp + struct.pack(">I", 8 + len(playlist)) + b"free" + playlist)


def dref(kind: bytes, location: str) -> Callable[[Context, Path], object]:
    """An MP4 whose data reference says "the media is elsewhere" (flag 0), as a `url ` or an
    `alis` entry naming a loopback URL or a local file: the mov demuxer must not follow it."""

    def make(ctx: Context, path: Path) -> None:
        _mp4_faststart(path)
        data = bytearray(path.read_bytes())
        at = data.find(b"url \x00\x00\x00\x01")
        if at < 0:
            raise RuntimeError("no self-contained url entry in dref")
        target = location.format(probe=ctx.probe_url).encode() + b"\x00"
        entry = struct.pack(">I", 12 + len(target)) + kind + b"\x00\x00\x00\x00" + target
        start = at - 4
        old_size = struct.unpack(">I", data[start : start + 4])[0]
        grow = len(entry) - old_size
        data[start : start + old_size] = entry
        # every box enclosing the entry grows by the same amount: dref, dinf, minf, mdia, trak, moov
        for name in (b"dref", b"dinf", b"minf", b"mdia", b"trak", b"moov"):
            box = data.rfind(name, 0, start)
            size = struct.unpack(">I", data[box - 4 : box])[0]
            data[box - 4 : box] = struct.pack(">I", size + grow)
        # chunk offsets point into mdat, which moved by `grow` (faststart: moov before mdat)
        stco = data.find(b"stco")
        count = struct.unpack(">I", data[stco + 8 : stco + 12])[0]
        for i in range(count):
            pos = stco + 12 + 4 * i
            data[pos : pos + 4] = struct.pack(">I", struct.unpack(">I", data[pos : pos + 4])[0] + grow)
        path.write_bytes(bytes(data))

    return make


def png_dims(width: int, height: int) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        idat = zlib.compress(b"\x00" * 64)
        path.write_bytes(png_header(width, height) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))

    return make


def jpeg_dims(width: int, height: int) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        data = bytearray(jpeg_bytes())
        _patch_first(data, b"\xff\xc0", 5, struct.pack(">HH", height, width))
        path.write_bytes(bytes(data))

    return make


def webp_dims(width: int, height: int) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
        path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)

    return make


def png_ztxt_bomb(ctx: Context, path: Path) -> None:
    """A zTXt chunk of 4 KB that inflates to 64 MB."""
    text = zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    chunk = png_chunk(b"zTXt", b"Comment\x00\x00" + text)
    idat = zlib.compress(b"\x00" + b"\x00" * 3)
    path.write_bytes(png_header(1, 1) + chunk + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def png_idat_bomb(ctx: Context, path: Path) -> None:
    """9000x9000 (81 Mpx, under Pillow's bomb warning, over the service's pixel limit): about
    240 KB on disk, 243 MB once decoded."""
    width = height = 9000
    comp = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (width * 3)
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    data = b"".join(parts)
    path.write_bytes(png_header(width, height) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b""))


def mjpeg_absurd_dims(ctx: Context, path: Path) -> None:
    _avi(path)
    data = bytearray(path.read_bytes())
    at = 0
    while (at := data.find(b"\xff\xc0", at + 1)) >= 0:
        data[at + 5 : at + 9] = struct.pack(">HH", 30000, 30000)
    path.write_bytes(bytes(data))


def mp4_absurd_duration(ctx: Context, path: Path) -> None:
    _mp4_faststart(path)
    data = bytearray(path.read_bytes())
    for box in (b"mvhd", b"tkhd", b"mdhd"):
        at = data.find(box)
        offset = {b"mvhd": 20, b"tkhd": 24, b"mdhd": 20}[box]  # version 0: the duration field
        data[at + offset : at + offset + 4] = b"\xff\xff\xff\xf0"
    path.write_bytes(bytes(data))


def _ff(*args: str) -> Callable[[Context, Path], object]:
    return lambda ctx, path: ffmpeg(*args, str(path))


def vfr(ctx: Context, path: Path) -> None:
    ffmpeg(
        *testsrc("160x120", 2.0, 25),
        "-vf",
        "setpts='PTS+if(eq(mod(N,3),0),0.4/TB,0)'",
        "-fps_mode",
        "vfr",
        *x264(),
        str(path),
    )


def zero_fps(ctx: Context, path: Path) -> None:
    """Every frame at timestamp 0 (a frame rate of zero, or infinity)."""
    ffmpeg(
        *testsrc("160x120", 1.0, 10), "-vf", "setpts=0", "-fps_mode", "passthrough", "-c:v", "ffv1", str(path)
    )


def many_streams(ctx: Context, path: Path) -> None:
    inputs: list[str] = []
    maps: list[str] = []
    for i in range(12):
        inputs += ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=5:duration=1,hue=h={i * 30}"]
        maps += ["-map", str(i)]
    inputs += ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    for _ in range(8):
        maps += ["-map", "12"]
    ffmpeg(*inputs, *maps, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", str(path))


def attachment_mkv(ctx: Context, path: Path) -> None:
    payload = path.with_suffix(".payload.html")
    payload.write_text("<html><script>alert(1)</script></html>")
    ffmpeg(*testsrc(), *x264(), "-attach", str(payload), "-metadata:s:t", "mimetype=text/html", str(path))
    payload.unlink()


def cover_art_m4a(ctx: Context, path: Path) -> None:
    art = path.with_suffix(".cover.jpg")
    art.write_bytes(jpeg_bytes())
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-i",
        str(art),
        "-map",
        "0",
        "-map",
        "1",
        "-c:a",
        "aac",
        "-c:v",
        "copy",
        "-disposition:v",
        "attached_pic",
        "-f",
        "mp4",
        str(path),
    )
    art.unlink()


def exif_rotated_jpeg(ctx: Context, path: Path) -> None:
    from PIL import Image

    img = Image.new("RGB", (96, 64), (30, 60, 90))
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(path, format="JPEG", exif=exif)


def image(mode: str, size: tuple[int, int], fmt: str, **save: object) -> Callable[[Context, Path], object]:
    def make(ctx: Context, path: Path) -> None:
        from PIL import Image

        Image.new(mode, size).save(path, format=fmt, **save)

    return make


def animated_webp(ctx: Context, path: Path) -> None:
    from PIL import Image

    frames = [Image.new("RGB", (64, 48), (i * 40, 0, 0)) for i in range(5)]
    frames[0].save(path, format="WEBP", save_all=True, append_images=frames[1:], duration=100)


def _ok_or(*others: str) -> frozenset[str]:
    return frozenset({OK, *others})


# --- the corpus ------------------------------------------------------------------------------

LOCAL_FILE = "file:///etc/passwd"
LOOPBACK = "{probe}/seg.ts"

KINDS: tuple[Kind, ...] = (
    # empty, renamed, not media
    Kind("zero-byte", "empty.mp4", _write(b""), frozenset({INVALID, UNSUPPORTED, CORRUPT})),
    Kind("nul-bytes", "zeros.mp4", _write(b"\x00" * 100_000), frozenset({UNSUPPORTED})),
    Kind("text-renamed", "notes.mp4", _write(b"this is not a video\n" * 50), frozenset({UNSUPPORTED})),
    Kind(
        "html-renamed",
        "page.jpg",
        _write(b"<!doctype html><img src=x onerror=alert(1)>"),
        frozenset({UNSUPPORTED}),
    ),
    Kind(
        "svg-renamed",
        "image.png",
        _write(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        frozenset({UNSUPPORTED}),
    ),
    Kind("gif-renamed", "anim.mp4", image("RGB", (32, 32), "GIF"), frozenset({UNSUPPORTED})),
    Kind("bmp-renamed", "photo.jpg", image("RGB", (32, 32), "BMP"), frozenset({UNSUPPORTED})),
    Kind("tiff-renamed", "photo.png", image("RGB", (32, 32), "TIFF"), frozenset({UNSUPPORTED})),
    Kind("elf-renamed", "tool.mp4", _write(b"\x7fELF\x02\x01\x01" + b"\x00" * 500), frozenset({UNSUPPORTED})),
    # playlists and references to elsewhere
    Kind("hls-local-file", "list.mp4", hls(LOCAL_FILE), frozenset({UNSUPPORTED})),
    Kind("hls-loopback", "list.m3u8", hls(LOOPBACK), frozenset({UNSUPPORTED})),
    Kind("ffconcat-local-file", "concat.mp4", ffconcat("/etc/passwd"), frozenset({UNSUPPORTED})),
    Kind("ffconcat-loopback", "concat.mkv", ffconcat(LOOPBACK), frozenset({UNSUPPORTED})),
    Kind("mp4-ftyp-then-hls", "hls-inside.mp4", mp4_with_hls_inside, frozenset({CORRUPT})),
    Kind("dref-url-loopback", "dref-url.mp4", dref(b"url ", LOOPBACK), _ok_or(CORRUPT), ("libx264",)),
    Kind("dref-url-local", "dref-local.mp4", dref(b"url ", LOCAL_FILE), _ok_or(CORRUPT), ("libx264",)),
    Kind("dref-alis-loopback", "dref-alis.mp4", dref(b"alis", LOOPBACK), _ok_or(CORRUPT), ("libx264",)),
    # truncated and corrupt containers
    Kind("mp4-truncated", "cut.mp4", _truncated(_mp4, 0.4), frozenset({CORRUPT}), ("libx264",)),
    Kind(
        "mp4-faststart-truncated",
        "cut-fs.mp4",
        _truncated(_mp4_faststart, 0.5),
        _ok_or(CORRUPT),
        ("libx264",),
    ),
    Kind("mp4-header-only", "head.mp4", _truncated(_mp4_faststart, 0.0), frozenset({CORRUPT}), ("libx264",)),
    Kind("mp4-corrupt-middle", "garbled.mp4", corrupt_middle, _ok_or(CORRUPT), ("libx264",)),
    Kind("mkv-truncated", "cut.mkv", _truncated(_mkv, 0.3), _ok_or(CORRUPT), ("libx264",)),
    Kind("webm-truncated", "cut.webm", _truncated(_webm, 0.3), _ok_or(CORRUPT), ("libvpx-vp9",)),
    Kind("avi-truncated", "cut.avi", _truncated(_avi, 0.3), _ok_or(CORRUPT), ("mjpeg",)),
    Kind(
        "jpeg-truncated", "cut.jpg", lambda c, p: p.write_bytes(jpeg_bytes((320, 240))[:900]), _ok_or(CORRUPT)
    ),
    Kind(
        "jpeg-garbage",
        "garbage.jpg",
        _write(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8),
        frozenset({CORRUPT}),
    ),
    Kind("png-truncated", "cut.png", _truncated(_png, 0.5), frozenset({CORRUPT})),
    Kind("html-before-mp4", "polyglot.mp4", html_polyglot_mp4, frozenset({UNSUPPORTED}), ("libx264",)),
    # polyglots that are valid images
    Kind("jpeg-zip-polyglot", "polyglot.jpg", jpeg_zip_polyglot, frozenset({OK})),
    Kind("jpeg-html-comment", "comment.jpg", jpeg_html_comment, frozenset({OK})),
    # absurd sizes and bombs
    Kind("png-100000x100000-header", "huge.png", png_dims(100_000, 100_000), frozenset({TOO_LARGE})),
    Kind("jpeg-65500x65500-header", "huge.jpg", jpeg_dims(65_500, 65_500), frozenset({TOO_LARGE})),
    Kind("webp-16383x16383-header", "huge.webp", webp_dims(16_383, 16_383), frozenset({TOO_LARGE, CORRUPT})),
    Kind("png-ztxt-bomb", "ztxt.png", png_ztxt_bomb, frozenset({TOO_LARGE})),
    Kind("png-idat-bomb-9000x9000", "bomb.png", png_idat_bomb, frozenset({TOO_LARGE})),
    Kind(
        "mjpeg-30000x30000-frames", "huge.avi", mjpeg_absurd_dims, frozenset({TOO_LARGE, CORRUPT}), ("mjpeg",)
    ),
    Kind("mp4-absurd-duration", "forever.mp4", mp4_absurd_duration, _ok_or(TOO_LARGE, CORRUPT), ("libx264",)),
    # tiny frames
    Kind("image-1x1", "dot.png", image("RGB", (1, 1), "PNG"), frozenset({OK})),
    Kind("image-2x2", "tiny.jpg", image("RGB", (2, 2), "JPEG"), frozenset({OK})),
    Kind("video-2x2", "tiny.mkv", _ff(*testsrc("2x2"), "-c:v", "ffv1"), frozenset({OK})),
    Kind("video-48x48", "small.mp4", _ff(*testsrc("48x48"), *x264()), frozenset({OK}), ("libx264",)),
    Kind("video-640x40", "thin.mp4", _ff(*testsrc("640x40", 2.0), *x264()), frozenset({OK}), ("libx264",)),
    Kind(
        "video-one-frame",
        "one.mp4",
        _ff(*testsrc(), "-frames:v", "1", *x264()),
        frozenset({OK}),
        ("libx264",),
    ),
    # time
    Kind("variable-fps", "vfr.mkv", vfr, frozenset({OK}), ("libx264",)),
    Kind("zero-fps", "zero-fps.mkv", zero_fps, _ok_or(CORRUPT), ("ffv1",)),
    # orientation
    Kind(
        "rotate-90",
        "rot90.mp4",
        _ff(*testsrc(), *x264(), "-metadata:s:v:0", "rotate=90"),
        frozenset({OK}),
        ("libx264",),
    ),
    Kind(
        "rotate-270-mov",
        "rot270.mov",
        _ff(*testsrc(), *x264(), "-metadata:s:v:0", "rotate=270"),
        frozenset({OK}),
        ("libx264",),
    ),
    Kind("jpeg-exif-orientation", "exif.jpg", exif_rotated_jpeg, frozenset({OK})),
    # streams
    Kind(
        "audio-only",
        "sound.mp4",
        _ff("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"),
        frozenset({UNSUPPORTED}),
    ),
    Kind("audio-with-cover-art", "song.mp4", cover_art_m4a, frozenset({UNSUPPORTED})),
    Kind("many-streams", "streams.mkv", many_streams, frozenset({OK}), ("libx264",)),
    Kind("mkv-html-attachment", "attached.mkv", attachment_mkv, frozenset({OK}), ("libx264",)),
    # codecs an honest user may send
    Kind(
        "vp9-alpha",
        "alpha.webm",
        _ff(
            *testsrc(),
            "-vf",
            "format=yuva420p",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-auto-alt-ref",
            "0",
        ),
        frozenset({OK}),
        ("libvpx-vp9",),
    ),
    Kind(
        "h264-10bit",
        "h264-10.mp4",
        _ff(*testsrc(), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"),
        frozenset({OK}),
        ("libx264",),
    ),
    Kind(
        "hevc-10bit",
        "hevc-10.mp4",
        _ff(
            *testsrc(),
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
        ),
        frozenset({OK}),
        ("libx265",),
    ),
    Kind(
        "av1",
        "av1.mkv",
        _ff(*testsrc(), "-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-crf", "50"),
        frozenset({OK}),
        ("libaom-av1",),
    ),
    Kind("png-16bit-alpha", "deep.png", image("RGBA", (40, 30), "PNG"), frozenset({OK})),
    Kind("jpeg-cmyk", "cmyk.jpg", image("CMYK", (40, 30), "JPEG"), frozenset({OK})),
    Kind("webp-animated", "anim.webp", animated_webp, frozenset({OK})),
)


def available_encoders() -> set[str]:
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, check=True)
    names = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6:
            names.add(parts[1])
    return names


def generate(ctx: Context) -> dict[str, Path | str]:
    """Write every kind under ctx.out; kind name → its file, or the reason it was not made."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    have = available_encoders()
    made: dict[str, Path | str] = {}
    for kind in KINDS:
        missing = [e for e in kind.encoders if e not in have]
        if missing:
            made[kind.name] = f"ffmpeg has no {', '.join(missing)} encoder"
            continue
        path = ctx.out / f"{kind.name}--{kind.filename}"
        kind.make(ctx, path)
        made[kind.name] = path
    return made


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-media")
    for name, result in generate(Context(out, "http://127.0.0.1:9")).items():
        print(f"{name:32} {result}")
