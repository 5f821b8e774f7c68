"""The exceptions a report that cannot be curated raises; the caller quarantines on ReportFormatError."""

from __future__ import annotations


class ReportFormatError(ValueError):
    """The report file is corrupt, truncated, or not the expected compressed CSV."""


class SchemaError(ReportFormatError):
    """The report's header cannot be mapped onto the canonical columns."""


class ReportTooLarge(ReportFormatError):
    """The report decompresses to more bytes than the caller allows (a decompression bomb, or a runaway file)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"report decompresses to more than {limit} bytes (MAX_DECOMPRESSED_BYTES); stopped there")
        self.limit = limit
