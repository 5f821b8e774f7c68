"""What a person runs to fix the problems a forced run cannot: the AWS CLI commands, for the target's archive."""

from __future__ import annotations

import shlex
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cli.target import Target

TABLE = "deploy the stack again (sam deploy) to restore the table as template.yaml defines it; the local stack: restart make demo"


@dataclass(frozen=True)
class Fixes:
    """The `aws` command line for the target (its Region; the local stack's endpoint) and the archive's names."""

    aws: str
    bucket: str
    database: str

    @classmethod
    def of(cls, target: Target) -> Fixes:
        """The fixes for a target: a stack's Region, or the local stack's endpoint and moto's dummy credentials."""
        if target.endpoint_url:
            aws = f"AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url {shlex.quote(target.endpoint_url)}"
            return cls(f"{aws} --region {shlex.quote(target.region)}", target.bucket, target.database)
        return cls(f"aws --region {shlex.quote(target.region)}", target.bucket, target.database)

    def _command(self, *words: str) -> str:
        """One AWS CLI command line, its words quoted for a POSIX shell."""
        return f"{self.aws} {shlex.join(words)}"

    def delete_partition(self, table: str, values: tuple[str, ...]) -> str:
        """Remove a Glue partition (one registered for a period the archive does not hold)."""
        names = ("--database-name", self.database, "--table-name", table, "--partition-values", *values)
        return "delete the partition: " + self._command("glue", "delete-partition", *names)

    def copy_key(self, key: str) -> str:
        """Copy a key outside the layout to a local file to look at: never a delete, the archive did not write it.

        The local name is the key percent-encoded (no `/`, no `..`), so it stays in the current folder and two keys never
        share one. Athena reads every object under a partition's location, so whoever wrote it decides whether it goes.
        """
        local = "./" + urllib.parse.quote(key, safe="")
        return "not written by the archive: copy it out to look at it, and ask whoever wrote it to move it: " + self._command(
            "s3", "cp", f"s3://{self.bucket}/{key}", local
        )

    def abort_upload(self, key: str, upload_id: str) -> str:
        """Abort an incomplete multipart upload (offered only while no run holds the archive's lease: a killed run's leftovers)."""
        words = ("--bucket", self.bucket, "--key", key, "--upload-id", upload_id)
        return "no run holds the archive's lease: abort it: " + self._command("s3api", "abort-multipart-upload", *words)
