"""The delivery loop: claim due deliveries with a lease, post them, record what happened.

One run delivers what is due now and returns (a "burst", as arq's): the
scheduler runs it every ``delivery.every`` seconds, ``worker once`` at the end
of its cycle. Posting is asyncio + httpx: at most ``delivery.concurrency``
attempts in flight, and ``delivery.per_subscriber_concurrency`` per subscriber
(its lanes, each one attempt at a time over one kept-alive connection), so one
slow receiver cannot take every slot. Each attempt: a fresh
``webhook-timestamp`` and signature, the same ``webhook-id`` and body as every
other attempt, a timeout, no redirects followed, the response body capped.

Outcomes are written in batches, each only while this run still holds the
row's lease. A run killed at any point loses nothing: its claimed rows become
claimable again when their lease runs out, and are posted again (at least once).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from worker import __version__
from worker.config import DeliverySettings
from worker.notify.plan import Subscriber
from worker.notify.retry import GONE, Answer, Dead, Delivered, Gone, Retry, judge_answer
from worker.notify.safety import refusal
from worker.notify.signing import WebhookSigner
from worker.records import AttemptRecord, ClaimedDelivery
from worker.store import Store

log = logging.getLogger("worker.notify")

Clock = Callable[[], datetime]
USER_AGENT = f"smartmfg-events-worker/{__version__} (webhooks)"
#: Claimed rows kept per lane of a subscriber (and per slot of ``delivery.concurrency``,
#: all subscribers together): the ones in flight and the next ones, so posting never
#: waits for a claim. A subscriber is claimed for again once half of its rows are done.
CLAIM_AHEAD = 4
#: Outcomes are written once this many have gathered, or after FLUSH_SECONDS.
FLUSH_BATCH = 200
FLUSH_SECONDS = 0.5


@dataclass(slots=True)
class DeliveryReport:
    """What one run did."""

    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    #: Subscribers disabled in this run (they answered 410), with the reason.
    disabled: dict[str, str] = field(default_factory=dict)


class Deliverer:
    """One run of the loop over the store's due deliveries."""

    def __init__(
        self,
        store: Store,
        subscribers: Mapping[str, Subscriber],
        settings: DeliverySettings,
        *,
        clock: Clock,
        rand: Callable[[], float],
        stopping: Callable[[], bool] = lambda: False,
        tls: ssl.SSLContext | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``rand`` gives the jitter's random numbers in [0, 1); ``stopping`` ends a run early;
        ``tls`` is shared by every connection (building one costs tens of milliseconds)."""
        self.store = store
        self.subscribers = dict(subscribers)
        self.settings = settings
        self.clock = clock
        self.rand = rand
        self.stopping = stopping
        self.transport = transport
        self.tls = tls if tls is not None else httpx.create_ssl_context()
        self.signers = {
            s.id: WebhookSigner(s.secret, key=f"webhooks[{s.id}].secret")
            for s in subscribers.values()
        }
        self._addresses: dict[tuple[str, int], list[str]] = {}
        #: Subscribers that answered 410 in this run: their queued attempts are not posted.
        self._gone: set[str] = set()

    def run(self) -> DeliveryReport:
        if not self.subscribers:
            return DeliveryReport()
        return asyncio.run(self._run())

    async def _run(self) -> DeliveryReport:
        report = DeliveryReport()
        settings = self.settings
        disabled = await asyncio.to_thread(self.store.disabled_subscribers)
        eligible = [ident for ident in self.subscribers if ident not in disabled]
        token = uuid.uuid4().hex
        slots = asyncio.Semaphore(settings.concurrency)
        lanes_per_subscriber = min(settings.per_subscriber_concurrency, settings.concurrency)
        queues: dict[str, asyncio.Queue[ClaimedDelivery | None]] = {}
        lanes: list[asyncio.Task[None]] = []
        finished: asyncio.Queue[AttemptRecord | _Unrecorded] = asyncio.Queue()
        claims = _Claims(eligible, lanes_per_subscriber * CLAIM_AHEAD,
                         settings.concurrency * CLAIM_AHEAD)  # fmt: skip
        records: list[AttemptRecord] = []
        last_flush = time.monotonic()

        def dispatch(delivery: ClaimedDelivery) -> None:
            queue = queues.get(delivery.subscriber)
            if queue is None:
                queue = queues[delivery.subscriber] = asyncio.Queue()
                for _ in range(lanes_per_subscriber):
                    lanes.append(asyncio.create_task(self._lane(queue, slots, finished)))
            queue.put_nowait(delivery)

        async def claim(subscriber: str, want: int) -> None:
            claimed = await asyncio.to_thread(
                self.store.claim_deliveries,
                subscriber,
                now=self.clock(),
                lease=timedelta(seconds=settings.lease),
                token=token,
                limit=want,
            )
            claims.claimed(subscriber, want, len(claimed))
            for delivery in claimed:
                dispatch(delivery)

        async def flush() -> None:
            nonlocal records, last_flush
            if records:
                batch, records = records, []
                await asyncio.to_thread(self.store.record_attempts, batch)
            last_flush = time.monotonic()

        try:
            while True:
                if self.stopping():
                    claims.stop()
                for subscriber, want in claims.wanted():
                    await claim(subscriber, want)
                if not claims.outstanding:
                    await flush()
                    if claims.drained():
                        break
                    continue
                try:
                    done = [await asyncio.wait_for(finished.get(), FLUSH_SECONDS)]
                except TimeoutError:
                    done = []
                while not finished.empty():
                    done.append(finished.get_nowait())
                for record in done:
                    claims.finished(record.subscriber)
                    if isinstance(record, AttemptRecord):  # else failed inside: the lease
                        records.append(record)  # brings it back
                        await self._account(record, report, claims)
                if len(records) >= FLUSH_BATCH or time.monotonic() - last_flush > FLUSH_SECONDS:
                    await flush()
        finally:
            for queue in queues.values():
                for _ in range(lanes_per_subscriber):
                    queue.put_nowait(None)  # one "no more work" for each lane reading it
            await asyncio.gather(*lanes, return_exceptions=True)
        return report

    async def _account(
        self, record: AttemptRecord, report: DeliveryReport, claims: _Claims
    ) -> None:
        """Count one attempt; a 410 disables its subscriber for this run and after."""
        _count(report, record)
        if record.status == "dead" and record.status_code == GONE:
            reason = f"{record.error} at {record.attempted_at.isoformat()}"
            report.disabled[record.subscriber] = reason
            if claims.drop(record.subscriber):
                await asyncio.to_thread(
                    self.store.disable_subscriber,
                    record.subscriber,
                    reason=reason,
                    now=record.attempted_at,
                )

    async def _lane(
        self,
        queue: asyncio.Queue[ClaimedDelivery | None],
        slots: asyncio.Semaphore,
        finished: asyncio.Queue[AttemptRecord | _Unrecorded],
    ) -> None:
        """One of a subscriber's ``per_subscriber_concurrency`` lanes: one attempt at a time,
        over one kept-alive connection. (One small pool per lane, rather than one large pool
        for all, because httpcore's pool checks every connection it holds on each request.)"""
        async with self._client() as client:
            while (delivery := await queue.get()) is not None:
                try:
                    record: AttemptRecord | None = await self._attempt(client, delivery, slots)
                except Exception:  # a bug must not stall the run: log it, let the lease expire
                    log.exception("webhook id=%s: attempt failed inside the worker", delivery.id)
                    record = None
                finished.put_nowait(record or _Unrecorded(delivery.subscriber))

    def _client(self) -> httpx.AsyncClient:
        settings = self.settings
        return httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            # A redirect is an answer, not an instruction: following it would post the
            # signed body to wherever the receiver (or an attacker) points.
            follow_redirects=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"user-agent": USER_AGENT},
            # No proxies from the environment: a proxy would bypass the address check.
            trust_env=False,
            verify=self.tls,
            transport=self.transport,
        )

    async def _attempt(
        self, client: httpx.AsyncClient, delivery: ClaimedDelivery, slots: asyncio.Semaphore
    ) -> AttemptRecord:
        subscriber = self.subscribers[delivery.subscriber]
        async with slots:
            if subscriber.id in self._gone:
                # Claimed before the 410 came: put it back untried, for a replay to send.
                return AttemptRecord(
                    id=delivery.id,
                    subscriber=delivery.subscriber,
                    lease_token=delivery.lease_token,
                    status="failed",
                    attempted_at=self.clock(),
                    next_attempt_at=self.clock(),
                    error="not sent: the subscriber answered 410 Gone",
                )
            answer = await self._post(client, subscriber, delivery)
            now = self.clock()
            verdict = judge_answer(
                answer,
                attempts=delivery.attempts,
                schedule=self.settings.retry_schedule,
                jitter=self.settings.jitter,
                rand=self.rand(),
                now=now,
                max_retry_after=self.settings.max_retry_after,
            )
            if isinstance(verdict, Gone):
                # Before the slot is released, so no queued attempt posts after a 410.
                self._gone.add(subscriber.id)
        base = {
            "id": delivery.id,
            "subscriber": delivery.subscriber,
            "lease_token": delivery.lease_token,
            "attempted_at": now,
            "status_code": answer.status_code,
        }
        level, status = logging.DEBUG, "delivered"
        match verdict:
            case Delivered():
                record = AttemptRecord(status="delivered", **base)  # type: ignore[arg-type]
            case Retry(delay=delay, error=error):
                level, status = logging.INFO, "retry"
                record = AttemptRecord(
                    status="failed",
                    next_attempt_at=now + delay,
                    error=error,
                    **base,  # type: ignore[arg-type]
                )
            case Dead(error=error) | Gone(error=error):
                level, status = logging.WARNING, "dead"
                record = AttemptRecord(status="dead", error=error, **base)  # type: ignore[arg-type]
        log.log(
            level,
            "webhook id=%s subscriber=%s attempt=%d status=%s%s",
            delivery.id,
            delivery.subscriber,
            delivery.attempts,
            status,
            f" error={record.error!r}" if record.error else "",
        )
        return record

    async def _post(
        self, client: httpx.AsyncClient, subscriber: Subscriber, delivery: ClaimedDelivery
    ) -> Answer:
        """One POST; every failure comes back as an ``Answer`` carrying the error."""
        try:
            url = httpx.URL(subscriber.url)
            host = url.host
            port = url.port or (443 if url.scheme == "https" else 80)
            addresses = await self._resolve(host, port)
        except (OSError, httpx.InvalidURL, UnicodeError) as e:
            return Answer(error=f"cannot resolve {subscriber.url}: {e}")
        refused = refusal(host, addresses, allow_private=self.settings.allow_private_targets)
        if refused:
            return Answer(error=refused)
        headers = self.signers[subscriber.id].headers(delivery.id, self.clock(), delivery.body)
        headers["content-type"] = "application/json"
        # Post to the address just checked; the Host header and SNI keep the name.
        headers["host"] = url.netloc.decode("ascii")
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        target = url.copy_with(host=addresses[0])
        try:
            async with client.stream(
                "POST",
                target,
                content=delivery.body.encode("utf-8"),
                headers=headers,
                extensions=extensions,
            ) as response:
                body = await _read_capped(response, self.settings.max_response_bytes)
                return Answer(
                    status_code=response.status_code,
                    retry_after=response.headers.get("retry-after"),
                    location=response.headers.get("location"),
                    body=body,
                )
        except httpx.TimeoutException:
            return Answer(error=f"timeout after {self.settings.timeout:g} s")
        except (httpx.HTTPError, OSError) as e:
            return Answer(error=f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)

    async def _resolve(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to, looked up once per run."""
        cached = self._addresses.get((host, port))
        if cached is not None:
            return cached
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._addresses[(host, port)] = addresses
        return addresses


async def _read_capped(response: httpx.Response, limit: int) -> str:
    """At most ``limit`` bytes of the raw body; the rest is not read (the connection closes)."""
    chunks: list[bytes] = []
    size = 0
    if limit > 0:
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    return b"".join(chunks)[:limit].decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class _Unrecorded:
    """An attempt that failed inside the worker: nothing to record, its lease brings it back."""

    subscriber: str


class _Claims:
    """How many rows each subscriber has claimed and not yet finished, and whom to claim
    for next: a subscriber once half of its share is done, until a claim comes back short
    (nothing more is due for it now). Shares are per subscriber, so one subscriber's
    backlog never fills the run while another's new deliveries wait."""

    def __init__(self, subscribers: list[str], per_subscriber: int, total: int) -> None:
        self.per_subscriber = per_subscriber
        self.total = total
        self.held = {ident: 0 for ident in subscribers}
        self.exhausted: set[str] = set()
        self.dropped: set[str] = set()
        self.outstanding = 0

    def wanted(self) -> list[tuple[str, int]]:
        room = self.total - self.outstanding
        asks = []
        for ident, held in self.held.items():
            want = min(self.per_subscriber - held, room)
            if ident not in self.exhausted and want >= max(1, self.per_subscriber // 2):
                asks.append((ident, want))
                room -= want
        return asks

    def claimed(self, subscriber: str, wanted: int, got: int) -> None:
        self.held[subscriber] += got
        self.outstanding += got
        if got < wanted:
            self.exhausted.add(subscriber)

    def finished(self, subscriber: str) -> None:
        self.held[subscriber] -= 1
        self.outstanding -= 1

    def drop(self, subscriber: str) -> bool:
        """Claim no more for ``subscriber`` (it answered 410); False if dropped already."""
        first = subscriber not in self.dropped
        self.dropped.add(subscriber)
        self.exhausted.add(subscriber)
        return first

    def stop(self) -> None:
        self.exhausted.update(self.held)

    def drained(self) -> bool:
        return self.outstanding == 0 and self.exhausted >= self.held.keys()


def _count(report: DeliveryReport, record: AttemptRecord) -> None:
    report.attempted += 1
    if record.status == "delivered":
        report.delivered += 1
    elif record.status == "failed":
        report.retried += 1
    else:
        report.dead += 1
