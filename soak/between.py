"""What changes between the soak's runs: Amazon's reports, the catalog, expired versions and leases; Appstore faults queued."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from infra.local.emulator.faults import FAULTS
from infra.local.emulator.others import other_key
from infra.local.emulator.served import Served
from infra.local.stack import BUCKET, DATABASE, TABLE, LocalStack
from soak.draw import Draw, RunPlan
from soak.layout import MONTHLY, SUFFIX, Layout, Slot
from soak.lifecycle import expire_lease, expire_noncurrent
from soak.observe import observe


class Between:
    """The world around the runs, changed as each run's plan draws; counts into the soak's `faults` and `exercised`."""

    def __init__(self, seed: int, stack: LocalStack, draw: Draw, layout: Layout, faults: Counter[str], exercised: Counter[str]) -> None:
        self.seed, self.stack, self.draw, self.layout, self.faults, self.exercised = seed, stack, draw, layout, faults, exercised
        self.prefix = layout.prefix

    def served(self) -> dict[Slot, list[Served]]:
        """Every version the emulator served, by report type and period."""
        by_slot: dict[Slot, list[Served]] = {}
        for version in self.stack.emulator.served.versions():
            by_slot.setdefault(Slot(version.report, version.month), []).append(version)
        return by_slot

    def has_report(self, at: Slot) -> bool:
        """Whether Amazon (the emulator) has a report for the slot now."""
        year, _, month = at.period.partition("-")
        if at.report == "sales":
            return self.stack.emulator.has_report(int(year), int(month))
        return other_key(self.stack.emulator, at.report, int(year), int(month) if month else None) is not None

    def apply(self, plan: RunPlan) -> bool:
        """Change Amazon's reports and the catalog as drawn, and queue the Appstore faults; whether the catalog changed."""
        emu, catalog = self.stack.emulator, False
        for kind, month in plan.changes:
            if kind == "restate":
                emu.restate(month.year, month.month)
            elif kind in ("unregister", "relocate"):  # the partition of one type, drawn for the month
                report = random.Random(f"{self.seed}/{plan.number}/{month}/partition").choice(list(MONTHLY))
                catalog |= self._move_partition(kind, Slot(report, str(month) if MONTHLY[report] else f"{month.year:04d}"))
            else:
                wanted = self.draw.reports[month]
                emu.set_month(month.year, month.month, rows=wanted.rows, compression=wanted.compression, empty=wanted.empty)
        emu.expired_token_status = plan.expired_status
        for endpoint, fault, times, options in plan.appstore:
            emu.inject(endpoint, fault, times, **options)
            self.faults[f"appstore:{endpoint}:{fault}"] += times
        if plan.expire_after is not None:
            self._expire(plan.expire_after)
        if plan.lease_expires and expire_lease(self.stack.clients.s3, BUCKET, self.prefix, datetime.now(UTC)):
            self.exercised["a killed run's lease expired between runs"] += 1
        return catalog

    def _expire(self, age: float) -> None:
        """Lifecycle expiry of the versions noncurrent for `age` seconds, counting those of pending transactions' slots."""
        pending = observe(self.stack.clients.s3, self.stack.clients.glue, self.layout, DATABASE, TABLE).markers("pending")
        found = self.layout.slot_of
        deleted, relied_on = expire_noncurrent(
            self.stack.clients.s3, BUCKET, self.prefix, age, datetime.now(UTC), lambda key: (found(key) or ("", None))[1] in pending
        )
        self.exercised["lifecycle expiry between runs"] += 1
        self.exercised["lifecycle expiry: noncurrent versions deleted"] += deleted
        self.exercised["lifecycle expiry: versions deleted of a slot with a pending transaction"] += relied_on

    def _move_partition(self, kind: str, at: Slot) -> bool:
        """Delete the slot's partition, or point it at another period's prefix, if it has one; whether it had."""
        glue, values, table = self.stack.clients.glue, at.period.split("-"), TABLE + SUFFIX[at.report]
        try:
            current = glue.get_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=values)["Partition"]
        except glue.exceptions.EntityNotFoundException:
            return False
        if kind == "unregister":
            glue.delete_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=values)
        else:
            descriptor: Any = {**current["StorageDescriptor"], "Location": self.layout.location(at.earlier())}
            glue.update_partition(
                DatabaseName=DATABASE,
                TableName=table,
                PartitionValueList=values,
                PartitionInput={"Values": values, "StorageDescriptor": descriptor},
            )
        self.exercised[f"partitions {'deleted' if kind == 'unregister' else 'moved elsewhere'} between runs"] += 1
        return True

    def drain(self) -> int:
        """Remove the Appstore faults no request consumed, uncounting them; return how many were consumed."""
        leftover = 0
        for endpoint in FAULTS:
            while (fault := self.stack.emulator.take_fault(endpoint)) is not None:
                self.faults[f"appstore:{endpoint}:{fault.name}"] -= 1
                leftover += 1
        return leftover
