"""The database edge: engine set-up, migrations, and the few queries the worker needs.

Only this package imports SQLAlchemy. It stores what the pipeline decided and
decides nothing itself beyond "is this row new or changed".
"""

from __future__ import annotations

from worker.store.db import connect, migrate
from worker.store.repo import FeedState, SaveResult, Store

__all__ = ["FeedState", "SaveResult", "Store", "connect", "migrate"]
