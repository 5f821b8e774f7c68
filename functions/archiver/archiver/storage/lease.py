"""One writer per archive: a lease object beside the state folders, taken, renewed and released with S3 conditional writes.

The lease body names its holder and its duration; whether it has expired is judged by S3's clock
(archive/lease_record.py). The S3 behaviours relied on, in a versioned general-purpose bucket:

- PutObject with `If-None-Match: *` fails (412) while the key has a current version and succeeds over a delete marker
  (a released lease), so two takers of a free lease cannot both win;
- PutObject and DeleteObject with `If-Match: <ETag>` succeed only on that version (412 otherwise, 404 NoSuchKey or 409
  ConditionalRequestConflict on a race): a renewal or release never touches another holder's lease. A conditional
  DeleteObject in a versioned bucket writes a delete marker. `If-Match` needs s3:GetObject besides s3:PutObject or
  s3:DeleteObject;
- GetObject returns `LastModified` and a `Date` header (S3's time of the answer). Without a `Date` header the reader's
  clock stands in for S3's.

moto honours the three conditions (in-process and as a server); its server sends a `Date` header, its in-process mock
does not (tests stamp one). A take whose answer is lost is read back, and read again after a backoff: a write that lands
after both reads leaves a lease nobody holds, and every run ends busy until it expires (at most the run's time left
plus MARGIN_SECONDS after it was written).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from archiver.storage.lease_record import SYSTEM, Clock, Found, judge

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

    def read(self) -> Found | None:
        """The lease as it is now, None when there is none (listed first: GET on a missing key may be a 403)."""
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
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        return judge(body if isinstance(body, dict) else {}, str(response["ETag"]), response.get("LastModified"), date, self.clock.now())

    def _write(self, seconds: float, condition: dict[str, str]) -> None:
        now = self.clock.now()
        body: dict[str, Any] = {"holder": self.token, "acquired": self.acquired.isoformat(), "renewed": now.isoformat()}
        body["seconds"] = seconds  # the lease lasts this long after S3's LastModified: readers judge expiry by S3's clock
        body["expires"] = (now + timedelta(seconds=seconds)).isoformat()  # the writer's estimate, for people
        params = self._args(Body=json.dumps(body).encode(), ContentType="application/json", **condition)
        self.etag = str(self.s3.put_object(**params)["ETag"])

    def _mine(self) -> bool:
        """After a write whose outcome is unknown or refused: whether the lease is ours after all (a retry that had landed)."""
        found = self.read()
        if found is not None and found.holder == self.token:
            self.etag = found.etag
            return True
        return False

    def acquire(self, seconds: float, wait: float) -> None:
        """Take the lease for `seconds`: free, expired or already ours; else poll with backoff, and raise Busy after `wait` seconds.

        Every retry (a held lease, a racing writer's 409/412/404) goes through the same backoff and give-up time. A take
        whose outcome is unknown is read back, and once more after a backoff (a write landing late): ours is held.
        """
        give_up, delay, logged = self.clock.now() + timedelta(seconds=wait), 1.0, False
        while True:
            found = self.read()
            if found is not None and found.holder == self.token:
                self.etag = found.etag
                return
            if found is None or found.expired:
                try:
                    self._write(seconds, {"IfNoneMatch": "*"} if found is None else {"IfMatch": found.etag})
                    return
                except Exception as exc:  # a race: read again after the backoff; an unknown outcome: ours only if the write landed
                    if _code(exc) not in RACES:
                        if self._mine() or self._landed_late(delay):
                            return
                        raise
                    found = None  # another writer moved first: who holds it is read again
            left = (give_up - self.clock.now()).total_seconds()
            if left <= 0:
                found = found or self.read()
                raise Busy(found.holder if found else "nobody", found.until if found else "now")
            if not logged and found is not None:
                logger.info(f"the archive's lease is held by {found.holder} until {found.until}: waiting up to {wait:.0f} s for it")
                logged = True
            self.clock.sleep(min(delay, left))
            delay = min(delay * 2, 15.0)

    def _landed_late(self, delay: float) -> bool:
        """After an unknown take the read-back did not show: read once more after the backoff, ours (held) if it landed since."""
        self.clock.sleep(delay)
        return self._mine()

    def renew(self, seconds: float) -> None:
        """Extend the lease to `seconds` from now; LeaseLost when it is no longer ours (fencing: nothing more is written)."""
        if self.etag is None:
            raise LeaseLost("the run holds no lease")
        try:
            self._write(seconds, {"IfMatch": self.etag})
        except Exception as exc:
            if not self._mine():
                found = self.read()
                holder = found.holder if found else "nobody"
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
