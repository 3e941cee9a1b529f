"""What every query module shares: the engine, the dialect's INSERT … ON CONFLICT, and
look-ups by a list of keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

#: Keys asked for in one query (SQLite allows 32,766 parameters, PostgreSQL 65,535).
KEYS_PER_QUERY = 500


def pairs_by_keys(conn: Connection, query: Any, keys: Sequence[str]) -> dict[str, str]:
    """The (key, value) rows ``query`` gives for ``keys`` (its ``b_keys`` IN list), in
    chunks small enough for either backend."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), KEYS_PER_QUERY):
        found.update(
            conn.execute(query, {"b_keys": list(keys[start : start + KEYS_PER_QUERY])}).all()
        )
    return found


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects offer ON CONFLICT; "insert or keep" is then one atomic statement.
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
