"""Settings: ``config/worker.toml`` validated, with ``WORKER_*`` environment overrides.

Every key can be overridden from the environment: ``WORKER_DATABASE_URL`` sets
``database_url``; a double underscore descends into a table, so
``WORKER_SERVER__PORT=9090`` sets ``[server] port``. Secrets never live in the
committed file: they are given as ``env:NAME`` or ``file:PATH`` references and
resolved here.

With no file at all, every path is relative to the working directory: read
``seeds/``, write ``feeds/``, keep the database under ``data/``.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_CONFIG_PATH = Path("config/worker.toml")
ENV_PREFIX = "WORKER_"
#: Environment variables that are not settings keys.
ENV_NOT_KEYS = {"WORKER_CONFIG"}
#: The longest duration any setting accepts, in seconds (a year). Larger values are
#: typos or overflow the scheduler's date arithmetic.
MAX_SECONDS = 366 * 24 * 3600.0
#: Database backends the store is written and tested for.
DATABASE_BACKENDS = ("sqlite", "postgresql")

#: A duration in seconds: finite, positive, at most a year.
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]
#: How many things run at once: at least one, at most what one process can hold.
Concurrency = Annotated[int, Field(ge=1, le=10_000)]


def _require_http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


#: A URL the worker fetches from or posts to.
HttpUrlText = Annotated[str, AfterValidator(_require_http_url)]


class ConfigError(Exception):
    """A configuration problem, phrased for the operator: file, key, what is wrong."""


class _Strict(BaseModel):
    # An unknown key is almost always a typo; say so rather than ignore it. Infinity
    # and NaN are never meant: ``seeds_every = inf`` would only fail later, in a job.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ScheduleSettings(_Strict):
    #: Seconds between scans of the seed folder.
    seeds_every: Seconds = 60
    #: Seconds between feed cycles (a feed's own ``every`` may be longer).
    feeds_every: Seconds = 300
    #: Seconds between publishing runs.
    publish_every: Seconds = 60


class ServerSettings(_Strict):
    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    #: Connections the kernel queues while the server is busy.
    backlog: int = Field(2048, ge=16, le=65535)
    #: Most open client connections; more wait in the backlog. Lowered at start when the
    #: open-file limit leaves less room (the jobs keep 512 descriptors of their own).
    max_connections: int = Field(4096, ge=16)
    #: Seconds a client has to send a request's head; also how long an idle keep-alive
    #: connection is kept. Slow or silent connections are closed after it.
    header_timeout: float = Field(15, gt=0, le=3600)
    #: One log line per request, in the worker's log format.
    access_log: bool = True

    @property
    def own_url(self) -> str:
        """The server's address as a browser on this machine reaches it."""
        host = self.host
        if host in ("", "0.0.0.0", "::"):  # every interface: this machine is localhost
            host = "localhost"
        elif ":" in host:
            host = f"[{host}]"  # an IPv6 literal (RFC 3986 §3.2.2)
        return f"http://{host}:{self.port}"


class FetchSettings(_Strict):
    #: Seconds for the whole request, connect included.
    timeout: Seconds = 20
    connect_timeout: Seconds = 10
    #: A body larger than this (after decompression) is refused.
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0, le=2**31)
    #: Seconds to wait for the next bytes of a response.
    read_timeout: Seconds = 15
    max_redirects: int = Field(5, ge=0, le=50)
    #: Feeds fetched at the same time, all hosts together.
    concurrency: Concurrency = 50
    #: Feeds fetched at the same time from one host name (politeness, as Miniflux's per-host limit).
    per_host: Concurrency = 8
    #: HTTP clients the hosts are dealt out to: one asyncio client tops out well below
    #: what the loopback can do, and checks every connection it holds on each request
    #: (see bench/README.md).
    clients: int = Field(16, ge=1, le=64)
    #: Processes that parse feeds; 0 means one per core.
    parse_workers: int = Field(0, ge=0, le=256)
    #: Adapt each feed's interval to how often it publishes, within [min_interval, max_interval].
    adaptive: bool = True
    min_interval: Seconds = 300
    max_interval: Seconds = 24 * 3600
    #: Seconds before the first retry after an error; doubles with each further error.
    backoff_base: Seconds = 60
    #: The longest wait between retries of a failing feed (it is never given up on).
    backoff_cap: Seconds = 6 * 3600
    #: Seconds a worker holds a claimed feed before another worker may take it.
    lease: Seconds = 600


class RelevanceSettings(_Strict):
    #: The topic profile; empty means the profile shipped with the worker.
    profile: str = ""
    #: Overrides the profile's own threshold when set.
    threshold: float | None = None


class DedupSettings(_Strict):
    """How reports of one event are merged into one entry: the ``[dedup]`` table."""

    #: Estimated Jaccard similarity of two texts' character shingles from which they
    #: count as near duplicates (a copy trimmed to this share of the original still does).
    #: Lower merges more rewritten copies and risks more wrong merges.
    near_duplicate_threshold: float = Field(0.6, gt=0.2, le=1.0)
    #: Merge an English and a Chinese report by dates, city, kind and topics alone
    #: (``pipeline.dedup.same_event``). Where many events share dates and city, turn
    #: it off: the two reports then stay two entries (see bench/README.md).
    cross_language: bool = True


class PublishSettings(_Strict):
    title: str = "Smart-manufacturing training events"
    subtitle: str = "Courses, training series, workshops and seminars on smart manufacturing"
    #: The public address the feeds are served at; used for self links and ids. Not set:
    #: derived from ``[server]`` host and port (``Settings``), so links follow the port.
    base_url: str = "http://localhost:8080"
    #: How many of the newest entries a feed carries.
    window: int = Field(50, ge=1, le=10000)
    author: str = "smartmfg-events-worker"
    #: A WebSub hub (https://www.w3.org/TR/websub/): when set, every feed carries
    #: ``rel=hub`` and the hub is pinged after each publish that changed a feed.
    hub: str = ""
    #: Seconds to wait for the hub's answer to a publish ping.
    hub_timeout: Seconds = 10

    @field_validator("base_url", "hub")
    @classmethod
    def _http_url_or_empty(cls, value: str) -> str:
        return _require_http_url(value) if value else value


class FeedSource(_Strict):
    url: HttpUrlText
    name: str = ""
    #: Seconds between fetches of this feed; empty means ``schedule.feeds_every``.
    every: Seconds | None = None
    category: str = ""


#: The events a subscriber can ask for.
WebhookEvent = Literal["item.created", "item.updated"]
#: Svix's retry schedule (https://docs.svix.com/retries): seconds to wait after
#: each failed attempt; after the last one the delivery is dead-lettered.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class WebhookSubscriber(_Strict):
    """One ``[[webhooks]]`` table: where to post, with which secret, and what to send."""

    url: HttpUrlText
    #: ``env:NAME`` or ``file:PATH`` naming a ``whsec_…`` secret; never the secret itself.
    secret: str
    #: The subscriber's name in ``worker webhooks list|replay``; empty means the URL.
    name: str = ""
    events: tuple[WebhookEvent, ...] = ("item.created", "item.updated")
    #: Only items in these languages (``en``, ``zh``; ``mixed`` matches either); empty: all.
    languages: tuple[str, ...] = ()
    #: Only items with at least one of these topics; empty: all.
    topics: tuple[str, ...] = ()
    #: Only items judged relevant with at least this probability (0 to 1).
    min_score: float | None = Field(None, ge=0.0, le=1.0)

    @field_validator("secret")
    @classmethod
    def _reference(cls, value: str) -> str:
        kind, _, name = value.partition(":")
        if kind not in ("env", "file") or not name:
            raise ValueError("must be 'env:NAME' or 'file:PATH', not a literal secret")
        return value

    @property
    def id(self) -> str:
        return self.name or self.url


class DeliverySettings(_Strict):
    """How webhook deliveries are made: the ``[delivery]`` table."""

    #: Seconds between delivery runs of ``worker run``.
    every: Seconds = 2
    #: Seconds to wait after each failed attempt (a comma-separated list from the environment).
    retry_schedule: tuple[float, ...] = Field(DEFAULT_RETRY_SCHEDULE, min_length=1)
    #: Each wait is stretched or shrunk by up to this fraction, at random, so that
    #: retries of many deliveries do not all land on a recovering receiver at once.
    jitter: float = Field(0.1, ge=0, lt=1)
    #: Seconds for one attempt, connect included.
    timeout: Seconds = 15
    connect_timeout: Seconds = 5
    #: Attempts in flight at once, all subscribers together, and per subscriber.
    concurrency: Concurrency = 50
    per_subscriber_concurrency: Concurrency = 10
    #: Bytes of a response body read (kept for the error message); the rest is dropped.
    max_response_bytes: int = Field(64 * 1024, ge=0, le=2**24)
    #: Seconds a claimed delivery stays with one worker; a killed worker's claims
    #: become claimable again after this.
    lease: Seconds = 120
    #: A ``Retry-After`` longer than this is cut to it.
    max_retry_after: Seconds = 86400
    #: Post to loopback, private and link-local addresses (tests, private deployments).
    allow_private_targets: bool = False

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("retry_schedule")
    @classmethod
    def _positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 <= delay <= MAX_SECONDS for delay in value):
            raise ValueError(f"delays must be between 0 and {MAX_SECONDS:g} seconds")
        return value


class Settings(_Strict):
    data_dir: Path = Path("data")
    seeds_dir: Path = Path("seeds")
    feeds_dir: Path = Path("feeds")
    #: SQLAlchemy URL; empty means a SQLite file ``worker.db`` in ``data_dir``.
    database_url: str = ""
    #: Bring the database schema up to date when the worker starts. Replicas sharing one
    #: PostgreSQL may all keep it on (they migrate one after another, under an advisory
    #: lock); turn it off to migrate only with ``worker migrate``, as a deploy step.
    migrate_on_start: bool = True
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    schedule: ScheduleSettings = ScheduleSettings()
    server: ServerSettings = ServerSettings()
    fetch: FetchSettings = FetchSettings()
    relevance: RelevanceSettings = RelevanceSettings()
    publish: PublishSettings = PublishSettings()
    dedup: DedupSettings = DedupSettings()
    feeds: tuple[FeedSource, ...] = ()
    webhooks: tuple[WebhookSubscriber, ...] = ()
    delivery: DeliverySettings = DeliverySettings()
    #: Where the settings came from, for messages; not a key.
    source_path: str = Field("(defaults)", exclude=True)
    #: ``WORKER_*`` environment variables that name no setting, so were ignored; not a key.
    ignored_environment: tuple[str, ...] = Field((), exclude=True)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        return check_database_url(value) if value else value

    @field_validator("webhooks")
    @classmethod
    def _unique_subscribers(
        cls, value: tuple[WebhookSubscriber, ...]
    ) -> tuple[WebhookSubscriber, ...]:
        seen: set[str] = set()
        for subscriber in value:
            if subscriber.id in seen:
                raise ValueError(f"two subscribers named {subscriber.id!r}; give each a `name`")
            seen.add(subscriber.id)
        return value

    @property
    def db_url(self) -> str:
        if not self.database_url:
            return f"sqlite:///{self.data_dir / 'worker.db'}"
        return with_default_driver(self.database_url)

    @model_validator(mode="after")
    def _base_url_follows_the_server(self) -> Settings:
        """Without ``publish.base_url``, links point at the server's own address and port."""
        if "base_url" not in self.publish.model_fields_set:
            publish = self.publish.model_copy(update={"base_url": self.server.own_url})
            object.__setattr__(self, "publish", publish)  # the model is frozen once built
        return self


def _url_parts(url: str) -> tuple[str, str]:
    """(backend, driver) of a SQLAlchemy URL such as ``postgresql+psycopg://…``."""
    scheme, sep, _rest = url.partition("://")
    if not sep or not scheme:
        raise ValueError("not a database URL (expected e.g. postgresql+psycopg://user@host/db)")
    backend, _, driver = scheme.lower().partition("+")
    return backend, driver


def check_database_url(url: str) -> str:
    """``url`` if the store supports its backend and its driver is installed, else ValueError."""
    backend, driver = _url_parts(url)
    if backend == "postgres":  # the libpq spelling
        backend = "postgresql"
    if backend not in DATABASE_BACKENDS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")
    if backend == "postgresql":
        driver = driver or "psycopg"
        if driver not in ("psycopg", "psycopg2"):
            raise ValueError(f"unsupported PostgreSQL driver {driver!r}: use postgresql+psycopg://")
        if importlib.util.find_spec(driver) is None:
            raise ValueError(
                f"the PostgreSQL driver {driver} is not installed "
                "(pip install 'smartmfg-events-worker[postgres]')"
            )
    elif driver not in ("", "pysqlite"):
        raise ValueError(f"unsupported SQLite driver {driver!r}: use sqlite:///PATH")
    return url


def with_default_driver(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3, the driver the worker ships with
    (SQLAlchemy would otherwise pick psycopg2)."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def resolve_secret(reference: str, *, key: str, environ: Mapping[str, str] | None = None) -> str:
    """Resolve ``env:NAME`` or ``file:PATH`` to the secret itself; ``key`` names it in errors."""
    environ = os.environ if environ is None else environ
    kind, _, name = reference.partition(":")
    if kind == "env" and name:
        value = environ.get(name)
        if value is None:
            raise ConfigError(f"{key}: environment variable {name} is not set")
        return value
    if kind == "file" and name:
        try:
            return Path(name).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{key}: cannot read secret file {name}: {e.strerror}") from e
    raise ConfigError(f"{key}: must be 'env:NAME' or 'file:PATH', not a literal secret")


def _apply_env(
    data: dict[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """``data`` with the environment's overrides; and the ``WORKER_*`` names that are no
    setting at all (another program's variable, a test's), which are ignored. A name
    inside a known table (``WORKER_SERVER__PROT``) is still validated, as a typo."""
    ignored = []
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_KEYS:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in Settings.model_fields or path[0] in _NOT_KEYS:
            ignored.append(name)
            continue
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment {name}: '{part}' is not a table")
            node = child
        node[path[-1]] = value
    return data, ignored


#: Fields of ``Settings`` that are not keys of the file or the environment.
_NOT_KEYS = {"source_path", "ignored_environment"}


def _describe(error: ValidationError, source: str, env_keys: set[str]) -> str:
    first = error.errors()[0]
    loc = [str(p) for p in first["loc"]]
    key = ".".join(loc)
    origin = source
    # The variable that set the key or the list or table holding it (``feeds.0.url`` and
    # ``delivery.retry_schedule.2`` come from WORKER_FEEDS, WORKER_DELIVERY__RETRY_SCHEDULE).
    for depth in range(len(loc), 0, -1):
        env_name = ENV_PREFIX + "__".join(loc[:depth]).upper()
        if env_name in env_keys:
            origin = f"environment {env_name}"
            break
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    more = f" (and {len(error.errors()) - 1} more)" if len(error.errors()) > 1 else ""
    return f"{origin}: {key}: {message}{more}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load and validate the settings; raise ``ConfigError`` naming file and key."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or "WORKER_CONFIG" in environ
    path = path or Path(environ.get("WORKER_CONFIG", DEFAULT_CONFIG_PATH))
    data: dict[str, Any] = {}
    source = "(defaults)"
    if path.exists():
        source = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: cannot read: {e}") from e
    elif explicit:
        raise ConfigError(f"{path}: no such configuration file")
    data, ignored = _apply_env(data, environ)
    env_keys = {k for k in environ if k.startswith(ENV_PREFIX)}
    try:
        return Settings.model_validate(
            {**data, "source_path": source, "ignored_environment": tuple(ignored)}
        )
    except ValidationError as e:
        raise ConfigError(_describe(e, source, env_keys)) from e
