"""What every query module shares: the engine and the dialect's INSERT … ON CONFLICT."""

from __future__ import annotations

from sqlalchemy import Engine, Table
from sqlalchemy.dialects import postgresql, sqlite


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects offer ON CONFLICT; "insert or keep" is then one atomic statement.
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
