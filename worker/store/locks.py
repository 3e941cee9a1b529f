"""Named leases: "only one process runs this job now", on SQLite and PostgreSQL alike.

A lease is one row, taken by a single INSERT … ON CONFLICT DO UPDATE that
succeeds only when the row is free, expired, or already ours: atomic on both
backends, so two replicas can never both hold it. A holder that dies releases
nothing; its lease expires and the next replica takes over. (A PostgreSQL
advisory lock would free itself sooner, but only on PostgreSQL and only while
one pooled connection stays checked out; one mechanism for both backends
keeps one code path to test.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from worker.store.base import StoreBase
from worker.store.tables import locks


class LockQueries(StoreBase):
    def acquire_lock(self, name: str, *, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease ``name`` for ``holder``; False when another holds it."""
        expires = now + ttl
        statement = (
            self._insert(locks)
            .values(name=name, holder=holder, expires_at=expires)
            .on_conflict_do_update(
                index_elements=["name"],
                set_={"holder": holder, "expires_at": expires},
                where=or_(locks.c.expires_at <= now, locks.c.holder == holder),
            )
            .returning(locks.c.name)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).first() is not None

    def release_lock(self, name: str, *, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == holder))

    @contextmanager
    def lock(self, name: str, *, holder: str, ttl: timedelta, now: datetime) -> Iterator[bool]:
        """``with store.lock(...) as held:`` runs the block either way; ``held`` says if ours."""
        held = self.acquire_lock(name, holder=holder, ttl=ttl, now=now)
        try:
            yield held
        finally:
            if held:
                self.release_lock(name, holder=holder)
