"""One writer per archive: a lease object beside the state folders, taken, renewed and released with S3 conditional writes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

logger = Logger(child=True)
KEY = "state/lease.json"  # under the prefix, beside state/<type>/: no report type's marker
MARGIN_SECONDS = 300.0  # a lease outlives the run's time left by this much, so a killed holder's lease expires after it
WAIT_SECONDS = 60.0  # how long a run waits for a held lease by default (LEASE_WAIT_SECONDS)
RACES = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey")  # another writer moved first: read again


class Busy(RuntimeError):
    """Another run holds the lease and did not let it go within the wait: this run wrote nothing."""

    def __init__(self, holder: str, expires: str) -> None:
        super().__init__(f"the archive is busy: its lease is held by {holder} until {expires}")
        self.holder, self.expires = holder, expires


class LeaseLost(RuntimeError):
    """The run's lease was taken over or removed: it must not write again."""


@dataclass(frozen=True)
class Clock:
    """The wall clock and sleep a lease uses (tests give their own)."""

    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep


SYSTEM = Clock()


def _code(exc: Exception) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


class Lease:
    """The archive's lease as one holder sees it: `token` names the holder, `etag` the lease version it last wrote."""

    def __init__(self, s3: S3Client, bucket: str, prefix: str, holder: str, owner: str | None = None, clock: Clock = SYSTEM) -> None:
        self.s3, self.bucket, self.key, self.owner, self.clock = s3, bucket, prefix + KEY, owner, clock
        self.token, self.acquired = f"{holder} {uuid.uuid4().hex}", clock.now()
        self.etag: str | None = None

    def _args(self, **params: Any) -> dict[str, Any]:
        owner = {"ExpectedBucketOwner": self.owner} if self.owner else {}
        return {"Bucket": self.bucket, "Key": self.key, **owner, **params}

    def read(self) -> tuple[dict[str, Any], str] | None:
        """The lease's body and ETag, None when there is none (listed first: GET on a missing key may be a 403)."""
        listed = self.s3.list_objects_v2(**{k: v for k, v in self._args(Prefix=self.key).items() if k != "Key"})
        if not any(item["Key"] == self.key for item in listed.get("Contents", [])):
            return None
        try:
            response = self.s3.get_object(**self._args())
        except ClientError as exc:
            if _code(exc) == "NoSuchKey":
                return None
            raise
        try:
            body = json.loads(response["Body"].read())
        except ValueError:
            body = {}  # unreadable: treated as expired
        return (body if isinstance(body, dict) else {}), str(response["ETag"])

    def expired(self, body: dict[str, Any]) -> bool:
        """Whether a lease body's expiry has passed (a body without a readable expiry has)."""
        try:
            return datetime.fromisoformat(str(body["expires"])) <= self.clock.now()
        except (KeyError, ValueError, TypeError):
            return True

    def _write(self, seconds: float, condition: dict[str, str]) -> None:
        now = self.clock.now()
        body = {"holder": self.token, "acquired": self.acquired.isoformat(), "renewed": now.isoformat()}
        body["expires"] = (now + timedelta(seconds=seconds)).isoformat()
        params = self._args(Body=json.dumps(body).encode(), ContentType="application/json", **condition)
        self.etag = str(self.s3.put_object(**params)["ETag"])

    def _mine(self) -> bool:
        """After a write whose outcome is unknown or refused: whether the lease is ours after all (a retry that had landed)."""
        found = self.read()
        if found is not None and found[0].get("holder") == self.token:
            self.etag = found[1]
            return True
        return False

    def acquire(self, seconds: float, wait: float) -> None:
        """Take the lease for `seconds`: free, expired or already ours; else poll with backoff, and raise Busy after `wait` seconds."""
        give_up, delay = self.clock.now() + timedelta(seconds=wait), 1.0
        while True:
            found = self.read()
            if found is not None and found[0].get("holder") == self.token:
                self.etag = found[1]
                return
            if found is None or self.expired(found[0]):
                try:
                    self._write(seconds, {"IfNoneMatch": "*"} if found is None else {"IfMatch": found[1]})
                    return
                except Exception as exc:  # a race: read again; an unknown outcome: ours only if the write landed
                    if _code(exc) in RACES:
                        continue
                    if self._mine():
                        return
                    raise
                continue
            left, holder, expires = (give_up - self.clock.now()).total_seconds(), found[0].get("holder"), found[0].get("expires")
            if left <= 0:
                raise Busy(str(holder), str(expires))
            if delay == 1.0:
                logger.info(f"the archive's lease is held by {holder} until {expires}: waiting up to {wait:.0f} s for it")
            self.clock.sleep(min(delay, left))
            delay = min(delay * 2, 15.0)

    def renew(self, seconds: float) -> None:
        """Extend the lease to `seconds` from now; LeaseLost when it is no longer ours (fencing: nothing more is written)."""
        if self.etag is None:
            raise LeaseLost("the run holds no lease")
        try:
            self._write(seconds, {"IfMatch": self.etag})
        except Exception as exc:
            if not self._mine():
                found = self.read()
                holder = found[0].get("holder", "?") if found else "nobody"
                self.etag = None
                raise LeaseLost(f"the run's lease was lost (now held by {holder}): stopping before any further write") from exc
            if _code(exc) in RACES:  # ours at another version (a retried write that had landed): renew that one
                self._write(seconds, {"IfMatch": str(self.etag)})

    def release(self) -> None:
        """Remove the lease if it is still ours (a conditional delete: another holder's lease stays)."""
        if self.etag is None:
            return
        try:
            self.s3.delete_object(**self._args(IfMatch=self.etag))
        except ClientError as exc:  # a race: gone already (a retried delete that had landed), another's, or ours at another version
            if _code(exc) not in RACES:
                raise
            if self._mine():
                self.s3.delete_object(**self._args(IfMatch=str(self.etag)))
        self.etag = None
