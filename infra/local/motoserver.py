"""`moto_server` whose registry of S3 model instances holds them weakly, so that a long local run keeps a bounded memory.

moto registers every model instance it ever creates (for its `/moto-api/` dashboard), and its
ListObjectVersions deep-copies every version and delete marker in the bucket (a delete marker
holds the key it hides), bytes included, on every call. The registry kept each copy for the life
of the server: 50 listings of 100 versions of 300 KB grew the server by 1.4 GB, and the soak's
moto server reached 24 GB after 675 runs. Held weakly, a copy is freed (and its buffer closed by
its own `__del__`) once the answer is sent; objects still in a bucket stay registered. The S3 API
answers do not change; the dashboard's `/moto-api/data.json` lists only live instances.

Run as a script (`python motoserver.py -H 127.0.0.1 -p PORT`): it imports only moto.
"""

from __future__ import annotations

import itertools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import moto.core.models
import moto.moto_api._internal.models
import moto.s3.models  # registers the S3 models in model_data
from moto.core.model_instances import model_data
from moto.server import main


class WeakInstances:
    """The registry's list of a model's instances, holding each one weakly."""

    def __init__(self) -> None:
        self._next = itertools.count()
        self._alive: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()  # the server is threaded: no registration while the dashboard lists

    def append(self, instance: Any) -> None:
        """Register an instance (what `BaseModel.__new__` calls)."""
        with self._lock:
            self._alive[next(self._next)] = instance

    def __iter__(self) -> Iterator[Any]:
        with self._lock:
            return iter(list(self._alive.values()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._alive)


def hold_weakly() -> None:
    """Give every S3 model (keys, delete markers, multipart uploads, and the ACLs a copy carries) a weak registry."""
    for model in model_data["s3"].values():
        model.instances_tracked = WeakInstances()  # type: ignore[attr-defined]


def _after(reset: Callable[[], None]) -> Callable[[], None]:
    """`reset` (which gives every model a fresh list), then weak registries again."""

    def reset_then_hold_weakly() -> None:
        reset()
        hold_weakly()

    return reset_then_hold_weakly


def install() -> None:
    """Hold S3 model instances weakly now and after every `/moto-api/reset` or backend reset."""
    hold_weakly()
    moto.core.models.reset_model_data = _after(moto.core.models.reset_model_data)  # type: ignore[attr-defined]
    moto.moto_api._internal.models.reset_model_data = _after(moto.moto_api._internal.models.reset_model_data)  # type: ignore[attr-defined]


if __name__ == "__main__":
    install()
    main(sys.argv[1:])
