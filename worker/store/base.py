"""What every query module shares: the engine and the dialect's INSERT … ON CONFLICT."""

from __future__ import annotations

from sqlalchemy import Engine, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, table: Table) -> Insert:
        # Both dialects offer ON CONFLICT; "insert or keep" is then one atomic statement.
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
