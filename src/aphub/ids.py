"""Time-ordered UUIDs (RFC 9562 version 7): new rows sort after old ones, so ordering
by id is creation order and keyset cursors stay stable as rows are inserted."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand_a = int.from_bytes(os.urandom(2), "big") & 0x0FFF
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= rand_a << 64
    value |= 0b10 << 62  # RFC variant
    value |= rand_b
    return uuid.UUID(int=value)
