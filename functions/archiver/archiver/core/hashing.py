"""A write-through stream that hashes and counts the bytes of a file as it is written."""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO


class HashingWriter(io.RawIOBase):
    """A write-only stream that passes bytes on to `target`, keeping their SHA-256 (`digest`) and count (`size`)."""

    def __init__(self, target: BinaryIO) -> None:
        self._target, self.digest, self.size = target, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._target.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)
