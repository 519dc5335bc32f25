"""Stage 3: decode the sampled frames of a segment (or the one frame of an image).

Decoding is the costliest CPU stage once inference is batched, so: frame-threaded decoding,
every frame decoded (P/B frames need their references) but only the sampled ones converted
to RGB, and decoding stops as soon as the last sample is taken.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.errors import CorruptMedia, MediaTooLarge, public_text
from shared.media.pillow import image_error, pillow_errors
from shared.media.sniff import MediaType
from shared.types import Frame


def rotate_upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a clockwise display rotation (0/90/180/270)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=-k)) if k else image


def sample_times(duration_s: float, k: int) -> list[float]:
    """k instants spread evenly over [0, duration): the centres of k equal slices."""
    if k <= 0:
        return []
    if duration_s <= 0:
        return [0.0]
    return [(j + 0.5) * duration_s / k for j in range(k)]


def sample_frames(
    path: Path,
    k: int,
    *,
    demuxer: str = "matroska",
    duration_s: float | None = None,
    offset_s: float = 0.0,
    rotation: int = 0,
    threads: int = 0,
    max_pixels: int | None = None,
) -> list[Frame]:
    """Decode `k` frames evenly spread over the video file at `path`.

    Returned frames are upright RGB; `time_s` is `offset_s` plus the frame's time within the
    file (so segment frames carry times within the whole video).
    """
    import av

    try:
        container = av.open(str(path), format=demuxer, options={"protocol_whitelist": "file"})
    except (av.error.FFmpegError, OSError) as exc:  # type: ignore[attr-defined]
        raise CorruptMedia(f"video could not be opened: {_av_message(exc)}") from exc
    frames: list[Frame] = []
    try:
        if not container.streams.video:
            raise CorruptMedia("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if threads:
            stream.thread_count = threads
        if max_pixels and stream.codec_context.width * stream.codec_context.height > max_pixels:
            raise MediaTooLarge("frame size exceeds the configured limit")
        if duration_s is None:
            if stream.duration is not None and stream.time_base is not None:
                duration_s = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration_s = container.duration / 1_000_000
            else:
                duration_s = 0.0
        targets = sample_times(duration_s, k)
        t0: float | None = None
        next_target = 0
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else 0.0
                if t0 is None:
                    t0 = t
                rel = t - t0
                # take this frame for every target it has reached (a short clip may serve several)
                if next_target < len(targets) and rel + 1e-6 >= targets[next_target] - _half_frame(stream):
                    image = frame.to_ndarray(format="rgb24")
                    frames.append(
                        Frame(index=len(frames), time_s=offset_s + rel, image=rotate_upright(image, rotation))
                    )
                    next_target += 1
                    while next_target < len(targets) and rel >= targets[next_target]:
                        next_target += 1
                if next_target >= len(targets):
                    break
        except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
            if not frames:
                raise CorruptMedia(f"video could not be decoded: {_av_message(exc)}") from exc
    finally:
        container.close()
    if not frames:
        raise CorruptMedia("no frame could be decoded from the video")
    return frames


def _half_frame(stream: object) -> float:
    rate = getattr(stream, "average_rate", None) or getattr(stream, "guessed_rate", None)
    try:
        return 0.5 / float(rate) if rate else 0.0
    except (TypeError, ZeroDivisionError):
        return 0.0


def _av_message(exc: BaseException) -> str:
    text = str(exc)
    # PyAV appends the file name; keep the reason only.
    return public_text(text.split(": '", 1)[0])[:300]


def load_image(
    path: Path, media_type: MediaType, *, rotation: int = 0, max_pixels: int | None = None
) -> Frame:
    """Decode an image (Pillow, restricted to its sniffed format) as one upright RGB frame."""
    from PIL import Image

    try:
        with Image.open(path, formats=[media_type.demuxer]) as img:
            if max_pixels and img.width * img.height > max_pixels:
                raise MediaTooLarge(
                    f"image of {img.width}x{img.height} exceeds the limit of {max_pixels} pixels"
                )
            image = np.asarray(img.convert("RGB"))
    except pillow_errors() as exc:
        raise image_error(exc) from exc
    return Frame(index=0, time_s=0.0, image=rotate_upright(image, rotation))
