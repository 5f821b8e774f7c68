"""Per-request AWS fault decisions for one run, on the function's S3 calls to the archive bucket and its Glue calls."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

from infra.local.faultproxy import RESET, UNACKED, Call, Decision, glue_error, s3_error
from soak.draw import UPLOADS, AwsPlan

# How S3 refuses the retry of a write whose first attempt committed: the retry timed out again (RequestTimeout,
# which the SDK retries: every attempt left is refused), or the multipart upload is already complete.
REFUSALS = {"s3.CompleteMultipartUpload": (404, "NoSuchUpload", 1)}
REQUEST_TIMEOUT = (400, "RequestTimeout", 2)  # AWS_MAX_ATTEMPTS 3: the two retries


def error_for(call: Call, kind: str) -> Decision:
    """The fault of `kind` as this call's service would show it."""
    if kind in (RESET, UNACKED):
        return kind
    if call.operation.startswith("glue."):
        return glue_error("InternalServiceException") if kind == "500" else glue_error("ThrottlingException", 400)
    return s3_error(500, "InternalError") if kind == "500" else s3_error(503, "SlowDown")


class AwsFaults:
    """The proxy's decision function; `arm` sets the plan of the next run, `disarm` lets everything through."""

    def __init__(self, bucket: str, prefix: str = "", kill: Callable[[], None] = lambda: None) -> None:
        self.bucket, self.prefix, self.kill = bucket, prefix, kill
        self.killed_on: tuple[str, str] | None = None  # (operation, kind) of the call a drawn kill answered, this run
        self._lock = threading.Lock()
        self._plan: AwsPlan | None = None
        self._rng = random.Random(0)
        self._calls: Counter[str] = Counter()
        self._refusing: dict[tuple[str, str], int] = {}  # (operation, path) -> retries still to refuse
        self._refusable = 0  # calls so far that the plan's refused write could be
        self.refused: Counter[str] = Counter()  # operations committed, unacknowledged and refused on retry, this run
        self.seen: Counter[str] = Counter()  # every call of the soak by operation (armed or not), to show what was exercised

    def arm(self, plan: AwsPlan, rng: random.Random) -> None:
        """Apply `plan` to the calls from now on, counting the n-th call of each operation from one."""
        with self._lock:
            self._plan, self._rng, self._calls, self.killed_on = plan, rng, Counter(), None
            self._refusing, self._refusable, self.refused = {}, 0, Counter()

    def disarm(self) -> None:
        """Forward every call."""
        with self._lock:
            self._plan = None

    def __call__(self, call: Call) -> Decision:
        """Decide one request's fault (None: forward it)."""
        if not (call.operation.startswith("glue.") or (call.operation.startswith("s3.") and call.bucket == self.bucket)):
            return None
        with self._lock:
            self.seen[call.operation] += 1
            plan = self._plan
            if plan is None:
                return None
            self._calls[call.operation] += 1
            nth = self._calls[call.operation]
            kind: str | None = None
            if self._refusing.get((call.operation, call.path)):  # a retry of the write that committed unacknowledged
                self._refusing[(call.operation, call.path)] -= 1
                status, code, _ = REFUSALS.get(call.operation, REQUEST_TIMEOUT)
                return s3_error(status, code)
            if plan.kill_on and self.killed_on is None and self._kill_point(call, plan.kill_on):
                self.killed_on = (call.operation, UNACKED if plan.kill_on[2] == "after" else RESET)
                self.kill()  # the run's process ends here; "after": the call still reaches S3, its answer never returns
                return self.killed_on[1]
            if plan.persistent and plan.persistent_key in call.path:
                operation, persistent = plan.persistent
                if operation == call.operation or (operation == "s3.uploads" and call.operation in UPLOADS):
                    kind = persistent
            for operation, number, targeted in plan.targeted:
                if operation == call.operation and number == nth:
                    kind = targeted
            if kind is None and plan.rate and self._rng.random() < plan.rate:
                kind = self._rng.choices(("500", "SlowDown", RESET, UNACKED), (0.3, 0.2, 0.25, 0.25))[0]
            if kind is None and plan.refused and self._refuse(call, plan.refused):
                return UNACKED
        return None if kind is None else error_for(call, kind)

    def _refuse(self, call: Call, refused: tuple[str, int, str]) -> bool:
        """Whether this is the drawn write to commit unacknowledged, its retries then refused (under the lock)."""
        operation, number, part = refused
        if call.operation != operation or part not in call.path:
            return False
        self._refusable += 1
        if self._refusable != number:
            return False
        self._refusing[(call.operation, call.path)] = REFUSALS.get(call.operation, REQUEST_TIMEOUT)[2]
        self.refused[call.operation] += 1
        return True

    def _kill_point(self, call: Call, point: tuple[str, str, str]) -> bool:
        """Whether the call is the drawn kill point: its operation, on a key under the prefix + the point's key."""
        operation, key, _ = point
        return call.operation == operation and (operation.startswith("glue.") or call.key.startswith(self.prefix + key))
