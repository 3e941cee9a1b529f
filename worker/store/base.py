"""What every query module shares: the engine, the dialect's INSERT … ON CONFLICT, and
look-ups by a list of keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

#: Keys asked for in one query (SQLite allows 32,766 parameters, PostgreSQL 65,535).
KEYS_PER_QUERY = 500


def rows_by_keys(conn: Connection, query: Any, keys: Sequence[str]) -> list[Any]:
    """The rows ``query`` gives for ``keys`` (its ``b_keys`` IN list), in chunks small
    enough for either backend."""
    found: list[Any] = []
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = list(keys[start : start + KEYS_PER_QUERY])
        found.extend(conn.execute(query, {"b_keys": chunk}).all())
    return found


def pairs_by_keys(conn: Connection, query: Any, keys: Sequence[str]) -> dict[str, str]:
    """``rows_by_keys`` of a two-column query, as a dict."""
    return {row[0]: row[1] for row in rows_by_keys(conn, query, keys)}


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The transaction ``transaction()`` holds open, per thread: the HTTP server's
        # reads and the scheduler's writes on other threads never see or join it.
        self._joined = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write this thread does inside the block ONE transaction.

        The store calls inside join it (``_begin``, ``_connect``) instead of committing
        on their own: a batch of feeds commits once, and SQLite writes each page it
        touches once per batch instead of once per feed. All or nothing.
        """
        if self._joined_connection() is not None:
            yield  # already inside one: the outer block commits
            return
        with self.engine.begin() as conn:
            self._joined.conn = conn
            try:
                yield
            finally:
                self._joined.conn = None

    def _joined_connection(self) -> Connection | None:
        conn: Connection | None = getattr(self._joined, "conn", None)
        return conn

    def _begin(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction: this thread's ``transaction()``, else a new one."""
        return self._joined_or(self.engine.begin)

    def _connect(self) -> AbstractContextManager[Connection]:
        """A connection to read with; inside ``transaction()`` it sees that block's writes."""
        return self._joined_or(self.engine.connect)

    @contextmanager
    def _joined_or(
        self, open_connection: Callable[[], AbstractContextManager[Connection]]
    ) -> Iterator[Connection]:
        joined = self._joined_connection()
        if joined is not None:
            yield joined
            return
        with open_connection() as conn:
            yield conn

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects offer ON CONFLICT; "insert or keep" is then one atomic statement.
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
