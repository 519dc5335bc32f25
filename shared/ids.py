"""Identifiers: ULIDs (26 Crockford base32 characters, time-ordered).

Job ids sort by creation time, which gives cursor pagination for free (`id < cursor`).
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: A ULID as a regular expression (validation of ids that arrive in URLs, queries and bodies).
ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def new_ulid() -> str:
    """A monotonic ULID: within one millisecond of one process the random part increments."""
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms == _last_ms:
            _last_rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            _last_ms = ms
            _last_rand = int.from_bytes(os.urandom(10), "big")
        value = (ms << 80) | _last_rand
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text.upper()) and text[0] in "01234567"
