"""What a person runs to fix the problems a forced run cannot: the AWS CLI commands, for the target's archive."""

from __future__ import annotations

import shlex
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

    def move_key(self, key: str) -> str:
        """Move a key outside the layout out of the archive, to a local file of the same path (never deleted: not the archive's)."""
        return "move it out of the archive: " + self._command("s3", "mv", f"s3://{self.bucket}/{key}", f"./{key}")

    def abort_upload(self, key: str, upload_id: str) -> str:
        """Abort an incomplete multipart upload (offered only while no run holds the archive's lease: a killed run's leftovers)."""
        words = ("--bucket", self.bucket, "--key", key, "--upload-id", upload_id)
        return "no run holds the archive's lease: abort it: " + self._command("s3api", "abort-multipart-upload", *words)
