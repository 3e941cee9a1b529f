"""The database edge: engine set-up, migrations, and the few queries the worker needs.

Only this package imports SQLAlchemy. It stores what the pipeline decided and
decides nothing itself beyond "is this row new or changed"; it returns what it
saved and never calls back into the webhook side (``notify``) or the pipeline.
"""

from __future__ import annotations

from worker.store.db import connect, migrate
from worker.store.repo import Store

__all__ = ["Store", "connect", "migrate"]
