"""Media handling: content sniffing and safe ffmpeg invocation."""

from shared.media.sniff import ALLOWED_DEMUXERS, BY_EXT, SNIFF_BYTES, SUPPORTED, MediaType, sniff

__all__ = ["ALLOWED_DEMUXERS", "BY_EXT", "SNIFF_BYTES", "SUPPORTED", "MediaType", "sniff"]
