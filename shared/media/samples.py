"""Sample media made from real photos that ship inside installed packages.

Used by the README's main command, the benchmarks and the test suite, so no binary fixture
is ever committed. Faces: scikit-image's astronaut (Eileen Collins) and matplotlib's
grace_hopper. No face: scikit-image's coffee cup and rocket.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Literal

import numpy as np

from shared.media.ffmpeg import tool_path

Subject = Literal["astronaut", "grace_hopper", "coffee", "rocket", "noise"]
FACE_SUBJECTS: tuple[Subject, ...] = ("astronaut", "grace_hopper")


def load_subject(subject: Subject) -> np.ndarray:
    """An RGB uint8 photo."""
    if subject == "astronaut":
        from skimage import data

        return np.asarray(data.astronaut())
    if subject == "coffee":
        from skimage import data

        return np.asarray(data.coffee())
    if subject == "rocket":
        from skimage import data

        return np.asarray(data.rocket())
    if subject == "grace_hopper":
        import matplotlib
        from PIL import Image

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    if subject == "noise":
        rng = np.random.default_rng(0)
        return rng.integers(0, 255, size=(512, 512, 3), dtype=np.uint8)
    raise ValueError(f"unknown subject {subject}")


def write_image(path: Path, subject: Subject = "astronaut", quality: int = 92) -> Path:
    from PIL import Image

    img = Image.fromarray(load_subject(subject))
    fmt = {".png": "PNG", ".webp": "WEBP"}.get(path.suffix.lower(), "JPEG")
    img.save(path, format=fmt, **({"quality": quality} if fmt != "PNG" else {}))
    return path


def make_clip(
    out: Path,
    subject: Subject = "astronaut",
    *,
    seconds: float = 8.0,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
    keyint: int | None = None,
    crf: int = 23,
    bitrate: str | None = None,
    preset: str = "veryfast",
    grain: int = 0,
    photo_array: np.ndarray | None = None,
) -> Path:
    """An H.264 MP4 of the photo drifting and slowly zooming over a blurred copy of itself.

    `keyint` is the keyframe interval in frames (default: 2 s, a typical streaming encoder);
    pass e.g. 250 to get x264's long default GOP. `grain` adds temporal film-grain noise
    (strength 0-100) so that a target `bitrate` is really spent, as in camera footage.
    `photo_array` replaces the named subject with any RGB image.
    """
    from PIL import Image, ImageFilter

    keyint = keyint or 2 * fps
    photo = Image.fromarray(photo_array if photo_array is not None else load_subject(subject))
    side = int(height * 0.9) // 2 * 2
    fg = photo.resize((int(photo.width * side / photo.height) // 2 * 2, side), Image.Resampling.LANCZOS)
    bg = photo.resize((width, height), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(12))
    drift = max(0, (width - fg.width) // 3)
    with tempfile.TemporaryDirectory(prefix="dfs-sample-") as tmp:
        fg_path, bg_path = Path(tmp) / "fg.png", Path(tmp) / "bg.png"
        fg.save(fg_path)
        bg.save(bg_path)
        x0 = (width - fg.width) // 2 - drift // 2
        graph = (
            f"[1:v]scale=w='trunc({fg.width}*(1+0.08*t/{seconds})/2)*2':h=-2:eval=frame[f];"
            f"[0:v][f]overlay=x='{x0}+{drift}*t/{seconds}':y='(H-h)/2':eval=frame"
            + (f",noise=alls={grain}:allf=t" if grain else "")
            + ",format=yuv420p[v]"
        )
        rate = ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate] if bitrate else ["-crf", str(crf)]
        args = [
            tool_path("ffmpeg"),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-framerate",
            str(fps),
            "-i",
            str(bg_path),
            "-loop",
            "1",
            "-framerate",
            str(fps),
            "-i",
            str(fg_path),
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-t",
            f"{seconds}",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            *rate,
            "-g",
            str(keyint),
            "-keyint_min",
            str(keyint),
            "-sc_threshold",
            "0",
            "-movflags",
            "+faststart",
            str(out),
        ]
        subprocess.run(args, check=True, stdin=subprocess.DEVNULL, timeout=600)
    return out


def make_corrupt_mp4(out: Path, source: Path) -> Path:
    """A file that sniffs as MP4 but whose media data is garbage (a damaged upload)."""
    data = bytearray(source.read_bytes())
    rng = np.random.default_rng(1)
    head = 64
    garbage = rng.integers(0, 255, size=len(data) - head, dtype=np.uint8).tobytes()
    data[head:] = garbage
    out.write_bytes(bytes(data))
    return out
