"""What the emulator has served: every report version (month, SHA-256, file name) a download carried, and when."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

_PERIOD = re.compile(r"_(\d{4})(?:_(\d{2}))?\.[^/]*$")  # sales_2026_11.zip, earnings_2026.zip


@dataclass(frozen=True)
class Served:
    """One report version a download served in full (the content, before any injected corruption)."""

    month: str  # YYYY-MM, or YYYY for a yearly report
    name: str  # the served file name
    sha256: str
    size: int
    at: float  # time.time() when the download finished
    report: str = "sales"  # the report type (the folder of the file's key: {vendor}/{type}/{name})


class ServedLog:
    """Thread-safe record of the report versions downloads have served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: list[Served] = []

    def watch(self, key: str, chunks: Iterator[bytes], length: int) -> Iterator[bytes]:
        """Pass the chunks through, recording the version once all `length` bytes were handed out."""
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        finally:
            match = _PERIOD.search(key)
            if match and size == length:
                period, folders = match[1] + (f"-{match[2]}" if match[2] else ""), key.split("/")
                report = folders[-2] if len(folders) > 1 else "sales"
                served = Served(period, folders[-1], digest.hexdigest(), size, time.time(), report)
                with self._lock:
                    self._served.append(served)

    def versions(self) -> list[Served]:
        """Every version served so far, in order."""
        with self._lock:
            return list(self._served)

    def to_json(self) -> list[dict[str, object]]:
        """The versions as JSON objects."""
        return [asdict(v) for v in self.versions()]
