"""Seed file queries: which files (by path and hash) were already processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from worker.store.base import StoreBase
from worker.store.tables import seed_files


class SeedFileQueries(StoreBase):
    def seed_file_hashes(self) -> dict[str, str | None]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(seed_files.c.path, seed_files.c.content_hash))
            return {r.path: r.content_hash for r in rows}

    def record_seed_file(
        self,
        path: str,
        *,
        content_hash: str | None,
        status: str,
        error: str | None,
        now: datetime,
    ) -> None:
        values = {"content_hash": content_hash, "status": status, "error": error, "seen_at": now}
        with self.engine.begin() as conn:
            conn.execute(
                self._insert(seed_files)
                .values(path=path, **values)
                .on_conflict_do_update(index_elements=["path"], set_=values)
            )

    def seed_file_status(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(seed_files))]
