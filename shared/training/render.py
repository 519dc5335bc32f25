"""The video domain for training and evaluation: photos framed the way `make_clip` frames them,
compressed with H.264, decoded by the pipeline's own decoder, and cut by the pipeline's own
crop code.

`make_clip` (shared/media/samples.py) animates a photo into a clip with ffmpeg: the photo
scaled to 90 % of the frame height, slowly zooming (+8 % over the clip) and drifting
sideways over a blurred copy of itself. `frame_layout` reproduces that geometry in Python so
that a training sample can be rendered at any instant without running ffmpeg for a whole
clip, and tells where a point of the photo lands in the frame (so the face box and the
landmarks of the photo carry over). `h264_roundtrip` encodes a few frames with libx264 (the
encoder and settings `make_clip` uses) and decodes them with `shared.pipeline.frames.sample_frames`.
A test checks the layout against frames of a real `make_clip` clip.

Reals and fakes go through exactly the same chain: same instant, same encoder settings, same
box, same crop.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.pipeline.faces import crop_square


@dataclass(frozen=True)
class FrameLayout:
    """Where the (zoomed) photo sits in a frame: photo pixel (x, y) → (left + x·sx, top + y·sy)."""

    width: int
    height: int
    left: float
    top: float
    fg_width: int
    fg_height: int
    photo_width: int
    photo_height: int

    @property
    def sx(self) -> float:
        return self.fg_width / self.photo_width

    @property
    def sy(self) -> float:
        return self.fg_height / self.photo_height

    def point(self, pts: np.ndarray) -> np.ndarray:
        """Photo pixel coordinates (N×2) → frame pixel coordinates."""
        return pts * np.array([self.sx, self.sy], np.float32) + np.array([self.left, self.top], np.float32)

    def box(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x1, y1, x2, y2 = box
        return (
            self.left + x1 * self.sx,
            self.top + y1 * self.sy,
            self.left + x2 * self.sx,
            self.top + y2 * self.sy,
        )


def frame_layout(
    photo_width: int, photo_height: int, t: float, *, seconds: float, width: int = 1280, height: int = 720
) -> FrameLayout:
    """`make_clip`'s geometry at time `t` of a clip of `seconds` (see its ffmpeg filter graph)."""
    side = int(height * 0.9) // 2 * 2
    fg_w0 = int(photo_width * side / photo_height) // 2 * 2
    fg_h0 = side
    drift = max(0, (width - fg_w0) // 3)
    x0 = (width - fg_w0) // 2 - drift // 2
    w_t = int(fg_w0 * (1 + 0.08 * t / seconds) / 2) * 2
    h_t = int(round(w_t * fg_h0 / fg_w0 / 2)) * 2
    left = int(x0 + drift * t / seconds)
    top = (height - h_t) // 2
    return FrameLayout(width, height, float(left), float(top), w_t, h_t, photo_width, photo_height)


def background(photo: np.ndarray, width: int = 1280, height: int = 720) -> np.ndarray:
    """`make_clip`'s backdrop: the photo stretched to the frame and blurred."""
    from PIL import Image, ImageFilter

    bg = Image.fromarray(photo).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(bg.filter(ImageFilter.GaussianBlur(12)))


def compose_frame(photo: np.ndarray, layout: FrameLayout, backdrop: np.ndarray) -> np.ndarray:
    """One frame: the photo resized to the layout and pasted over the backdrop (both clipped to the frame)."""
    import cv2

    frame = backdrop.copy()
    fg = cv2.resize(photo, (layout.fg_width, layout.fg_height), interpolation=cv2.INTER_AREA)
    x, y = int(layout.left), int(layout.top)
    fx1, fy1 = max(0, -x), max(0, -y)
    x1, y1 = max(0, x), max(0, y)
    x2, y2 = min(layout.width, x + layout.fg_width), min(layout.height, y + layout.fg_height)
    if x2 > x1 and y2 > y1:
        frame[y1:y2, x1:x2] = fg[fy1 : fy1 + (y2 - y1), fx1 : fx1 + (x2 - x1)]
    return frame


def h264_roundtrip(
    frames: list[np.ndarray],
    *,
    crf: int,
    preset: str = "veryfast",
    fps: int = 25,
    workdir: Path | None = None,
) -> list[np.ndarray]:
    """Encode `frames` (equal-size RGB) as one H.264 stream (yuv420p, first frame a keyframe,
    the rest predicted), then decode every frame with the pipeline's decoder."""
    import av

    from shared.pipeline.frames import sample_frames

    h, w = frames[0].shape[:2]
    w2, h2 = w // 2 * 2, h // 2 * 2
    with tempfile.TemporaryDirectory(prefix="dfs-render-", dir=workdir) as tmp:
        path = Path(tmp) / "clip.mkv"
        with av.open(str(path), "w", format="matroska") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w2, h2, "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset, "g": str(2 * fps)}
            for f in frames:
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[:h2, :w2]), format="rgb24")
                for packet in stream.encode(vf):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        decoded = sample_frames(path, len(frames), demuxer="matroska", duration_s=len(frames) / fps)
    return [d.image for d in decoded]


def jitter_box(
    box: tuple[float, float, float, float], rng: np.random.Generator, shift: float = 0.04, scale: float = 0.08
) -> tuple[float, float, float, float]:
    """A face box moved and resized the way a detector's boxes vary from frame to frame."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx = (x1 + x2) / 2 + rng.uniform(-shift, shift) * w
    cy = (y1 + y2) / 2 + rng.uniform(-shift, shift) * h
    s = 1 + rng.uniform(-scale, scale)
    return (cx - w * s / 2, cy - h * s / 2, cx + w * s / 2, cy + h * s / 2)


def render_pair(
    real: np.ndarray,
    fake: np.ndarray,
    box: tuple[float, float, float, float],
    rng: np.random.Generator,
    *,
    margin: float,
    crop_size: int,
    crf: int,
    seconds: float = 4.0,
    width: int = 1280,
    height: int = 720,
    frames: int = 3,
    keep: tuple[int, ...] = (0, 2),
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Real and fake photo (same size) → `make_clip`-style frames at the same random instant →
    H.264 at `crf` → the pipeline's decoder → crops of the same (jittered) face box.
    Returns (real crops, fake crops), one per kept frame."""
    ph, pw = real.shape[:2]
    t0 = rng.uniform(0, max(0.0, seconds - frames / 25))
    backdrop = background(real, width, height)
    layouts = [
        frame_layout(pw, ph, t0 + i / 25, seconds=seconds, width=width, height=height) for i in range(frames)
    ]
    outs: list[list[np.ndarray]] = []
    for photo in (real, fake):
        decoded = h264_roundtrip([compose_frame(photo, lay, backdrop) for lay in layouts], crf=crf)
        outs.append(decoded)
    jitter = [jitter_box(layouts[i].box(box), rng) for i in keep]
    crops = tuple(
        [crop_square(decoded[i], b, margin, crop_size) for i, b in zip(keep, jitter, strict=True)]
        for decoded in outs
    )
    return crops[0], crops[1]
