"""ffmpeg is only ever pointed at local files, through an allow-listed demuxer, with a timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import CorruptMedia, ToolFailed
from shared.media.ffmpeg import input_args, run_tool, tool_path


@pytest.mark.parametrize("demuxer", ["concat", "hls", "image2", "lavfi", "tty", "ffconcat"])
def test_dangerous_demuxers_are_refused(demuxer: str, face_clip: Path) -> None:
    with pytest.raises(CorruptMedia, match="not allowed"):
        input_args(face_clip, demuxer)


def test_only_local_files(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match="not a local file"):
        input_args(Path("http://example.com/x.mp4"), "mov")
    args = input_args(Path(__file__), "mov")
    assert args[:2] == ["-protocol_whitelist", "file"] and args[-1].startswith("file:")


def test_a_playlist_disguised_as_mp4_cannot_reach_the_network(tmp_path: Path) -> None:
    # An HLS playlist pointing at a URL: with the demuxer forced to mov it is just bad data.
    evil = tmp_path / "evil.mp4"
    evil.write_text(
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n"
    )
    from shared.media.sniff import MP4
    from shared.pipeline.probe import probe

    with pytest.raises(CorruptMedia):
        probe(evil, MP4)


def test_timeout_kills_the_tool() -> None:
    with pytest.raises(CorruptMedia, match="longer than"):
        run_tool(
            [
                tool_path("ffmpeg"),
                "-nostdin",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=25",
                "-f",
                "null",
                "-",
            ],
            timeout_s=0.5,
            what="ffmpeg",
        )
