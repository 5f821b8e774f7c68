"""The soak's layout: the periods table's sales object belongs to the archive, other keys under periods/ do not."""

from __future__ import annotations

from soak.observe import Archive, Layout, Obj


def test_the_periods_table_is_not_a_stray_key() -> None:
    keys = ("appstore/periods/sales.json.gz", "appstore/periods/other.json.gz", "appstore/periods/sales.json")
    objects = {key: Obj(key, "v", "0" * 64, {}, True) for key in keys}
    assert Archive(Layout("bucket", "appstore/"), objects, {}).stray() == sorted(keys[1:])
