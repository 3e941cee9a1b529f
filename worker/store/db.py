"""Engines and migrations, for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS_INI = Path(__file__).with_name("alembic.ini")
#: How long a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: PostgreSQL advisory lock key held while migrating, so replicas starting together
#: run the migrations once, one after the other ("wkr-migr" in ASCII).
MIGRATION_LOCK_KEY = 0x776B722D6D696772


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the HTTP server, `feeds list`) go on while a cycle writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _json_text(value: object) -> str:
    # orjson: each stored item is a JSON document of a few KB, and the standard
    # encoder was a third of the cost of inserting one.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def connect(url: str) -> Engine:
    """Create the engine for ``url``; a SQLite file's folder is created if missing."""
    parsed = make_url(url)
    json_options: dict[str, Any] = {
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
    }
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **json_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **json_options)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there)."""
    config = Config(str(MIGRATIONS_INI))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Released at commit; the second replica then finds the schema up to date.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        # "heads": independent branches of migrations (one per feature) all apply.
        command.upgrade(config, "heads")
