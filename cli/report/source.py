"""Where the report's rows come from: the template's named queries, run by the stack's Athena or by one local stand-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from cli.query import QueryError, Result, one_line, run_query
from cli.target import Target

if TYPE_CHECKING:
    from infra.local.athena import LocalAthena, QueryResult


class Ask(Protocol):
    """Runs a named query of the template (`named`) or Athena SQL (`sql`) and returns its rows."""

    def named(self, name: str) -> Result:
        """The rows of the template's named query `name`."""

    def sql(self, text: str) -> Result:
        """The rows of Athena SQL."""


class RemoteAsk:
    """The stack's Athena workgroup and its saved queries."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def named(self, name: str) -> Result:
        """The workgroup's saved query `name`, run."""
        return run_query(self.target, None, name)

    def sql(self, text: str) -> Result:
        """Athena SQL in the stack's workgroup."""
        return run_query(self.target, text, None)


class LocalAsk:
    """One local Athena stand-in for every query of the report (the curated objects are downloaded once)."""

    def __init__(self, athena: LocalAthena) -> None:
        self.athena = athena

    def named(self, name: str) -> Result:
        """The template's named query `name`, run by DuckDB."""
        return self._run(lambda: self.athena.run_named(name))

    def sql(self, text: str) -> Result:
        """Athena SQL run by DuckDB."""
        return self._run(lambda: self.athena.query(text))

    @staticmethod
    def _run(call: Callable[[], QueryResult]) -> Result:
        """A stand-in result as the CLI's Result; its errors as QueryError."""
        from infra.local.athena import AthenaError

        try:
            columns, rows = call()
        except AthenaError as exc:
            raise QueryError(one_line(str(exc))) from None
        return Result(list(columns), list(rows))


@contextmanager
def asking(target: Target) -> Iterator[Ask]:
    """An Ask for the target: its Athena workgroup, or one local stand-in kept open for the whole report."""
    if not target.local:
        yield RemoteAsk(target)
        return
    from infra.local.athena import LocalAthena

    with LocalAthena(target.glue(), target.s3(), target.database, target.table) as athena:
        athena.defer_views()  # the template's views (typed sales, restatements) made when a query names them
        yield LocalAsk(athena)
