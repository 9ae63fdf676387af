"""Checkpoint payloads as stored: hashed, and zstd-compressed when large enough for it to pay."""

from __future__ import annotations

import hashlib

import zstandard

from services.control.limits import COMPRESSION_MIN_BYTES, MAX_CHECKPOINT_PAYLOAD_BYTES
from services.control.storage.base import StoredPayload

IDENTITY = "identity"
ZSTD = "zstd"
ZSTD_LEVEL = 3
MIN_SAVING_RATIO = 0.95
"""Compressed data is kept only when at most this share of the original size."""


class PayloadCorrupted(Exception):
    """A stored payload no longer matches its recorded size or hash."""


def encode_payload(payload: bytes) -> StoredPayload:
    """Hashes a payload and compresses it when that saves space. CPU-bound: run it off the event loop."""
    digest = hashlib.sha256(payload).hexdigest()
    if len(payload) >= COMPRESSION_MIN_BYTES:
        compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(payload)
        if len(compressed) <= len(payload) * MIN_SAVING_RATIO:
            return StoredPayload(ZSTD, compressed, len(payload), digest)
    return StoredPayload(IDENTITY, payload, len(payload), digest)


def decode_payload(stored: StoredPayload) -> bytes:
    """The original payload, checked against its size and hash. CPU-bound: run it off the event loop."""
    if stored.encoding == ZSTD:
        try:
            payload = zstandard.ZstdDecompressor().decompress(stored.data, max_output_size=MAX_CHECKPOINT_PAYLOAD_BYTES)
        except zstandard.ZstdError as error:
            raise PayloadCorrupted(f"cannot decompress: {error}") from error
    elif stored.encoding == IDENTITY:
        payload = stored.data
    else:
        raise PayloadCorrupted(f"unknown encoding {stored.encoding!r}")
    if len(payload) != stored.size_bytes or hashlib.sha256(payload).hexdigest() != stored.sha256:
        raise PayloadCorrupted("size or sha256 differs from the recorded one")
    return payload
