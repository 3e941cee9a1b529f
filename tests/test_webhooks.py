"""Webhooks: signing, the outbox, the delivery loop against a real verifying receiver,
retries, Retry-After, 410, dead-letter, replay and the address check.

The pure decisions are tested as tables; everything else against a real SQLite file
and a real PostgreSQL database, and a real HTTP receiver on loopback that checks
every request with the ``standardwebhooks`` library.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import SEED_FILE, make_settings
from tests.webhook_receiver import TEST_SECRET, Receiver, Reply
from worker.config import ConfigError, DedupSettings, load_settings
from worker.jobs.commit import Committer
from worker.model import Entry, Item
from worker.notify import Notifier, resolve_subscribers
from worker.notify.plan import Subscriber, matches, plan_deliveries
from worker.notify.retry import Answer, Dead, Delivered, Gone, Retry, backoff, judge_answer
from worker.notify.safety import kind_of_address, refusal
from worker.notify.signing import WebhookSigner, check_secret
from worker.pipeline import process
from worker.pipeline.profile import load_profile
from worker.records import AttemptRecord, ItemWrite, NewDelivery
from worker.store import Store, connect, migrate

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
PROFILE_PATH = (
    Path(__file__).resolve().parent.parent / "worker" / "pipeline" / "data" / "profile.toml"
)


# -- signing ----------------------------------------------------------------------------


def test_signature_matches_the_spec_test_vector() -> None:
    # The Standard Webhooks specification's published test vector.
    at = datetime.fromtimestamp(1614265330, UTC)
    headers = WebhookSigner(SPEC_SECRET, key="k").headers(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", at, '{"test": 2432232314}'
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_a_signature_verifies_and_tampering_or_age_breaks_it() -> None:
    signer, receiver = WebhookSigner(TEST_SECRET, key="k"), Webhook(TEST_SECRET)
    body = '{"type":"item.created","data":{"title":"智能制造"}}'
    now = datetime.now(UTC)
    assert receiver.verify(body, signer.headers("msg_1", now, body)) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        receiver.verify(body.replace("created", "updated"), signer.headers("msg_1", now, body))
    old = now - timedelta(minutes=6)
    with pytest.raises(WebhookVerificationError, match="too old"):
        receiver.verify(body, signer.headers("msg_1", old, body))
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(body, signer.headers("msg_1", now, body))


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with 'whsec_'"),
        ("whsec_not base64!!", "not base64"),
        ("whsec_c2hvcnQ=", "24–64 bytes"),
    ],
)
def test_a_bad_secret_is_a_config_error_naming_the_key(secret: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        check_secret(secret, key="webhooks[0].secret")
    assert str(e.value).startswith("webhooks[0].secret: ")


# -- config ----------------------------------------------------------------------------------


def test_webhook_config_loads_and_resolves_secrets(tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    secret_file = tmp_path / "secret"
    secret_file.write_text(TEST_SECRET + "\n")
    config.write_text(
        f"""
[[webhooks]]
url = "https://crm.example/hooks"
secret = "env:CRM_SECRET"
name = "crm"
events = ["item.created"]
languages = ["zh"]
min_score = 0.5

[[webhooks]]
url = "https://chat.example/in"
secret = "file:{secret_file}"

[delivery]
retry_schedule = [1, 2]
allow_private_targets = true
"""
    )
    settings = load_settings(config, environ={"WORKER_DELIVERY__CONCURRENCY": "7"})
    assert [s.id for s in settings.webhooks] == ["crm", "https://chat.example/in"]
    assert settings.delivery.retry_schedule == (1.0, 2.0)
    assert settings.delivery.concurrency == 7
    subs = resolve_subscribers(settings.webhooks, environ={"CRM_SECRET": TEST_SECRET})
    assert [s.secret for s in subs] == [TEST_SECRET, TEST_SECRET]
    assert subs[0].events == ("item.created",) and subs[0].min_score == 0.5
    with pytest.raises(ConfigError, match=r"webhooks\[0\].secret: environment variable CRM_SECRET"):
        resolve_subscribers(settings.webhooks, environ={})

    env = {"WORKER_DELIVERY__RETRY_SCHEDULE": "0.5, 1,2"}
    assert load_settings(config, environ=env).delivery.retry_schedule == (0.5, 1.0, 2.0)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('url = "https://x.example"\nsecret = "whsec_abc"', "webhooks.0.secret"),
        ('url = "ftp://x.example"\nsecret = "env:S"', "webhooks.0.url"),
        (
            'url = "https://x.example"\nsecret = "env:S"\nevents = ["item.deleted"]',
            "webhooks.0.events",
        ),
        ('url = "https://x.example"\nsecret = "env:S"\nmin_scor = 1', "webhooks.0.min_scor"),
    ],
)
def test_bad_webhook_config_names_the_key(tmp_path: Path, table: str, key: str) -> None:
    config = tmp_path / "worker.toml"
    config.write_text(f"[[webhooks]]\n{table}\n")
    with pytest.raises(ConfigError, match=rf"{config}: {key}"):
        load_settings(config, environ={})


def test_two_subscribers_with_one_name_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    hook = '[[webhooks]]\nurl = "https://x.example"\nsecret = "env:S"\n'
    config.write_text(hook + hook)
    with pytest.raises(ConfigError, match="webhooks: .*two subscribers"):
        load_settings(config, environ={})


# -- who hears of what (pure) ------------------------------------------------------------


@pytest.fixture(scope="module")
def profile():  # type: ignore[no-untyped-def]
    return load_profile(PROFILE_PATH)


def seed_item(profile: Any, n: int = 0, *, text: str = SEED_TEXT) -> Item:
    """A document clearly about a smart-manufacturing training event, one per ``n``."""
    entry = Entry(source=f"seed:event-{n}.txt", guid=None, link=None, title=None, content=text)
    item = process(entry, profile, now=datetime(2024, 6, 7, tzinfo=UTC))
    assert item.relevance.relevant, item.relevance
    return item


def sub(**kw: Any) -> Subscriber:
    return Subscriber(id=kw.pop("id", "s"), url="https://x.example", secret=TEST_SECRET, **kw)


def test_filters_choose_subscribers(profile: Any) -> None:
    item = seed_item(profile)
    lang, score = item.doc.lang, item.relevance.score
    topic = (item.relevance.topics or item.event.topics)[0]
    assert matches(sub(), item, "item.created")
    assert not matches(sub(events=("item.updated",)), item, "item.created")
    assert matches(sub(languages=(lang,)), item, "item.created")
    assert not matches(sub(languages=("xx",)), item, "item.created")
    assert matches(sub(min_score=score), item, "item.created")
    assert not matches(sub(min_score=score + 0.01), item, "item.created")
    assert matches(sub(topics=(topic.upper(), "nothing")), item, "item.created")
    assert not matches(sub(topics=("underwater basket weaving",)), item, "item.created")


def test_plan_writes_one_delivery_per_matching_subscriber(profile: Any) -> None:
    item = seed_item(profile)
    now = datetime(2024, 6, 7, 8, 0, tzinfo=UTC)
    subs = [sub(id="a"), sub(id="b", events=("item.updated",)), sub(id="c", min_score=1.0)]
    planned = plan_deliveries(item, "item-1", "created", subs, now=now)
    assert [(d.subscriber, d.event) for d in planned] == [("a", "item.created")]
    body = json.loads(planned[0].body)
    assert body["type"] == "item.created"
    assert body["timestamp"] == "2024-06-07T08:00:00Z"
    assert body["data"] == {"id": "item-1", **item.to_json(), "related": []}
    updated = plan_deliveries(item, "item-1", "updated", subs, now=now)
    assert [(d.subscriber, d.event) for d in updated] == [
        ("a", "item.updated"),
        ("b", "item.updated"),
    ]
    # Ids name the change: the same for the same change at any time, else different.
    later = plan_deliveries(item, "item-1", "created", subs, now=now + timedelta(days=1))
    assert [d.id for d in later] == [d.id for d in planned]
    assert len({d.id for d in planned + updated}) == 3
    assert plan_deliveries(item, "item-1", "unchanged", subs, now=now) == []


# -- what an answer means (pure) ------------------------------------------------------------

NOW = datetime(2024, 6, 7, 8, 0, tzinfo=UTC)
SCHEDULE = (5.0, 300.0, 1800.0)


def _decide(answer: Answer, attempts: int = 1, rand: float = 0.5) -> object:
    return judge_answer(
        answer,
        attempts=attempts,
        schedule=SCHEDULE,
        jitter=0.1,
        rand=rand,
        now=NOW,
        max_retry_after=3600,
    )


@pytest.mark.parametrize(
    ("answer", "attempts", "expected"),
    [
        (Answer(status_code=200), 1, Delivered()),
        (Answer(status_code=204), 4, Delivered()),
        (Answer(status_code=500, body="boom"), 1, Retry(timedelta(seconds=5), "HTTP 500: boom")),
        (Answer(error="ConnectError"), 2, Retry(timedelta(seconds=300), "ConnectError")),
        (Answer(error="ConnectError"), 3, Retry(timedelta(seconds=1800), "ConnectError")),
        (Answer(error="ConnectError"), 4, Dead("ConnectError (gave up after 4 attempts)")),
        (Answer(status_code=410), 1, Gone("HTTP 410")),
        (
            Answer(status_code=302, location="http://169.254.169.254/"),
            1,
            Retry(
                timedelta(seconds=5), "HTTP 302: redirect to http://169.254.169.254/ not followed"
            ),
        ),
        (Answer(status_code=429, retry_after="120"), 1, Retry(timedelta(seconds=120), "HTTP 429")),
        (
            Answer(status_code=503, retry_after="Fri, 07 Jun 2024 08:10:00 GMT"),
            2,
            Retry(timedelta(minutes=10), "HTTP 503"),
        ),
        (Answer(status_code=429, retry_after="999999"), 1, Retry(timedelta(hours=1), "HTTP 429")),
        # An unreadable Retry-After falls back to the schedule; on a 500 it is not asked for.
        (Answer(status_code=429, retry_after="soon"), 1, Retry(timedelta(seconds=5), "HTTP 429")),
        (Answer(status_code=500, retry_after="120"), 1, Retry(timedelta(seconds=5), "HTTP 500")),
    ],
)
def test_decide(answer: Answer, attempts: int, expected: object) -> None:
    assert _decide(answer, attempts) == expected


def test_backoff_jitter_stays_within_its_fraction() -> None:
    assert backoff(1, SCHEDULE, 0.1, 0.0) == timedelta(seconds=4.5)
    assert backoff(1, SCHEDULE, 0.1, 0.5) == timedelta(seconds=5)
    assert backoff(2, SCHEDULE, 0.1, 0.999999) < timedelta(seconds=330)
    assert backoff(9, SCHEDULE, 0.0, 0.3) == timedelta(seconds=1800)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert kind_of_address(address) == kind


def test_refusal_checks_every_resolved_address() -> None:
    assert refusal("hooks.example", ["93.184.215.14"], allow_private=False) is None
    reason = refusal("hooks.example", ["93.184.215.14", "10.0.0.5"], allow_private=False)
    assert reason is not None and "hooks.example resolves to 10.0.0.5" in reason
    assert refusal("hooks.example", ["10.0.0.5"], allow_private=True) is None


# -- the outbox and the delivery loop, on SQLite and PostgreSQL ----------------------------------


class Clock:
    """The worker's clock, moved by the test; starts at the real time so that
    the receiver's five-minute timestamp window holds."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Setup:
    store: Store
    notifier: Notifier
    clock: Clock
    receiver: Receiver

    def save(self, item: Item) -> str:
        """Store ``item`` as the worker does, its deliveries in the same transaction."""
        committer = Committer(self.store, self.notifier, DedupSettings(), clock=self.clock)
        self.notifier.sync()
        return committer.write([ItemWrite(item, self.clock())])[0].id

    def deliver(self):  # type: ignore[no-untyped-def]
        return self.notifier.deliver()

    def rows(self, subscriber: str | None = None):  # type: ignore[no-untyped-def]
        return self.store.deliveries(subscriber=subscriber)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def make_setup() -> Iterator[Any]:
    """Builds a store, notifier and clock for one test; disposes the engines afterwards."""
    engines = []

    def build(
        tmp_path: Path,
        db_url: str,
        receiver: Receiver,
        *,
        hooks: list[dict[str, Any]] | None = None,
        **delivery: Any,
    ) -> Setup:
        hooks = hooks or [{"name": "crm", "url": receiver.url, "secret": "env:HOOK_SECRET"}]
        delivery.setdefault("allow_private_targets", True)
        delivery.setdefault("retry_schedule", [1, 2])
        settings = make_settings(tmp_path, db_url, webhooks=hooks, delivery=delivery)
        engine = connect(db_url)
        engines.append(engine)
        migrate(engine)
        store = Store(engine)
        clock = Clock()
        notifier = Notifier(
            settings, store, clock=clock, rand=lambda: 0.5, environ={"HOOK_SECRET": TEST_SECRET}
        )
        return Setup(store, notifier, clock, receiver)

    yield build
    for engine in engines:
        engine.dispose()


def test_deliveries_are_written_in_the_items_transaction(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver)
    item = seed_item(profile)
    with pytest.raises(RuntimeError), s.store.transaction():
        s.save(item)
        raise RuntimeError("crash between the outbox write and the commit")
    assert s.store.count_items() == 0 and s.rows() == []  # neither the item nor its news

    ident = s.save(item)
    assert s.store.count_items() == 1
    [row] = s.rows()
    assert (row.item_id, row.event, row.status) == (ident, "item.created", "pending")
    s.save(item)  # unchanged: nothing new to say
    assert len(s.rows()) == 1

    changed = seed_item(profile, text=SEED_TEXT + "\nRegistration for the second session is open.")
    s.clock.advance(1)
    s.save(changed)
    assert [r.event for r in s.rows()] == ["item.created", "item.updated"]

    irrelevant = process(
        Entry(source="seed:x.txt", guid=None, link=None, title="Lunch menu", content="Soup."),
        profile,
        now=s.clock(),
    )
    assert not irrelevant.relevance.relevant
    s.save(irrelevant)
    assert len(s.rows()) == 2


def test_a_real_receiver_verifies_every_delivery(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver)
    ids = [s.save(seed_item(profile, n)) for n in range(3)]
    report = s.deliver()
    assert (report.attempted, report.delivered) == (3, 3)
    assert [r.error for r in receiver.received] == [None, None, None]
    payloads = receiver.verified()
    assert sorted(p["data"]["id"] for p in payloads) == sorted(ids)
    for p in payloads:
        assert p["type"] == "item.created"
        assert datetime.fromisoformat(p["timestamp"]).tzinfo is not None
        assert p["data"]["relevant"] is True and p["data"]["event"]["city"] == "Beijing"
    got = {r.webhook_id for r in receiver.received}
    assert got == {r.id for r in s.rows()}
    assert all(r.status == "delivered" and r.attempts == 1 for r in s.rows())
    assert s.deliver().attempted == 0  # nothing due: nothing sent again

    # What a receiver would get from someone without the secret, or replaying old requests.
    first = receiver.received[0]
    check = Webhook(TEST_SECRET)
    with pytest.raises(WebhookVerificationError):
        check.verify(first.body.replace(b"Beijing", b"Shanghai"), first.headers)
    old = WebhookSigner(TEST_SECRET, key="k").headers(
        first.webhook_id, s.clock() - timedelta(minutes=10), first.body.decode()
    )
    with pytest.raises(WebhookVerificationError, match="too old"):
        check.verify(first.body, old)


def test_retries_carry_the_same_id_then_dead_letter_then_replay(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver, retry_schedule=[1, 2])
    receiver.reply = lambda _r: Reply(500, body=b"database is down")
    s.save(seed_item(profile))

    assert s.deliver().retried == 1
    [row] = s.rows()
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, 500)
    assert row.last_error == "HTTP 500: database is down"
    assert row.next_attempt_at == s.clock() + timedelta(seconds=1)
    assert s.deliver().attempted == 0  # not due yet

    s.clock.advance(1)
    assert s.deliver().retried == 1
    s.clock.advance(2)
    report = s.deliver()
    assert report.dead == 1
    [row] = s.rows()
    assert row.status == "dead" and "gave up after 3 attempts" in (row.last_error or "")
    s.clock.advance(3600)
    assert s.deliver().attempted == 0  # the dead stay dead until replayed
    [stats] = s.store.delivery_stats()
    assert (stats.dead, stats.pending, stats.delivered) == (1, 0, 0)
    assert stats.last_error and "HTTP 500" in stats.last_error

    receiver.reply = lambda _r: Reply(200)
    s.clock.now = datetime.now(UTC)
    assert s.store.replay_deliveries(ids=[row.id], now=s.clock()) == 1
    assert s.deliver().delivered == 1
    assert {r.webhook_id for r in receiver.received} == {row.id}  # 4 attempts, one id
    assert len(receiver.received) == 4
    assert all(r.error is None for r in receiver.received)
    [row] = s.rows()
    assert (row.status, row.attempts) == ("delivered", 1)


def test_retry_after_is_honoured_on_429(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver, retry_schedule=[1, 2])
    replies = iter([Reply(429, {"Retry-After": "30"}), Reply(204)])
    receiver.reply = lambda _r: next(replies)
    s.save(seed_item(profile))
    assert s.deliver().retried == 1
    [row] = s.rows()
    assert row.next_attempt_at == s.clock() + timedelta(seconds=30)  # not the schedule's 1 s
    s.clock.advance(29)
    assert s.deliver().attempted == 0
    s.clock.advance(1)
    assert s.deliver().delivered == 1


def test_410_disables_the_subscriber_with_a_reason(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver, concurrency=1)
    receiver.reply = lambda _r: Reply(410, body=b"no such hook")
    s.save(seed_item(profile, 1))
    s.save(seed_item(profile, 2))
    report = s.deliver()
    assert (report.dead, report.retried) == (1, 1) and "crm" in report.disabled
    assert len(receiver.received) == 1  # the second is not posted to a gone endpoint
    [stats] = s.store.delivery_stats()
    assert stats.disabled_reason and stats.disabled_reason.startswith("HTTP 410: no such hook")
    assert (stats.dead, stats.pending) == (1, 1)
    s.clock.advance(3600)
    s.save(seed_item(profile, 3))
    assert s.deliver().attempted == 0

    # The operator fixes the receiver and replays the subscriber: enabled again, all sent.
    receiver.reply = lambda _r: Reply(204)
    s.clock.now = datetime.now(UTC)
    assert s.store.replay_deliveries(subscriber="crm", now=s.clock()) == 3
    assert s.deliver().delivered == 3
    [stats] = s.store.delivery_stats()
    assert stats.disabled_reason is None and stats.delivered == 3


def test_replay_since_a_time(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver)
    s.save(seed_item(profile, 1))
    s.clock.advance(60)
    cut = s.clock()
    s.save(seed_item(profile, 2))
    assert s.deliver().delivered == 2
    assert s.store.replay_deliveries(since=cut, now=s.clock()) == 1
    assert s.deliver().delivered == 1
    assert len(receiver.received) == 3
    with pytest.raises(ValueError):
        s.store.replay_deliveries(now=s.clock())


def test_private_targets_are_refused_unless_allowed(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    hooks = [
        {"name": "ip", "url": receiver.url, "secret": "env:HOOK_SECRET"},
        {"name": "dns", "url": by_name, "secret": "env:HOOK_SECRET"},
    ]
    s = make_setup(tmp_path, db_url, receiver, hooks=hooks, allow_private_targets=False)
    s.save(seed_item(profile))
    assert s.deliver().retried == 2
    assert receiver.received == []
    errors = {r.subscriber: r.last_error or "" for r in s.rows()}
    assert errors["ip"].startswith("refused: 127.0.0.1, a loopback address")
    # The name is resolved and its address checked: a name pointing inside is refused too.
    assert errors["dns"].startswith("refused: localhost resolves to ")
    assert "allow_private_targets" in errors["dns"]


def test_a_lease_makes_a_killed_workers_claims_claimable_again(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver, lease=30)
    s.save(seed_item(profile))
    s.store.sync_subscribers([("crm", receiver.url)])
    lease = timedelta(seconds=30)
    now = s.clock()
    [first] = s.store.claim_deliveries("crm", now=now, lease=lease, token="a", limit=10)
    # A second worker finds nothing while the first holds the lease ...
    assert s.store.claim_deliveries("crm", now=now, lease=lease, token="b", limit=10) == []
    # ... and takes the row over once the lease ran out (the first one was killed).
    later = now + lease
    [again] = s.store.claim_deliveries("crm", now=later, lease=lease, token="b", limit=10)
    assert (again.id, again.attempts) == (first.id, 2)
    # The first worker coming back late cannot overwrite the second one's work.
    late = AttemptRecord(first.id, "crm", "a", "delivered", attempted_at=later)
    assert s.store.record_attempts([late]) == 0
    [row] = s.rows()
    assert row.status == "pending" and row.lease_token == "b"


def test_redirects_are_not_followed_and_slow_receivers_time_out(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver, timeout=0.5)
    receiver.reply = lambda _r: Reply(307, {"Location": "http://169.254.169.254/latest"})
    s.save(seed_item(profile))
    assert s.deliver().retried == 1
    assert len(receiver.received) == 1  # the signed body went nowhere else
    [row] = s.rows()
    assert row.last_error == "HTTP 307: redirect to http://169.254.169.254/latest not followed"

    def slow(_r: Any) -> Reply:
        time.sleep(2)  # the receiver's own slowness: longer than delivery.timeout
        return Reply(204)

    receiver.reply = slow
    s.clock.advance(1)
    assert s.deliver().retried == 1
    [row] = s.rows()
    assert (row.last_error, row.attempts) == ("timeout after 0.5 s", 2)


def test_concurrent_claimers_never_share_a_delivery(
    tmp_path: Path, db_url: str, receiver: Receiver, profile: Any, make_setup: Any
) -> None:
    s = make_setup(tmp_path, db_url, receiver)
    s.store.sync_subscribers([("crm", receiver.url)])
    now = s.clock()
    s.store.add_deliveries(
        [NewDelivery(f"msg_{n:04d}", "crm", "item", "item.created", "{}", now) for n in range(300)]
    )
    claimed: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(4)
    lock = threading.Lock()

    def claimer(n: int) -> None:
        start.wait()  # all four claim side by side
        for _ in range(300):  # a claim that lost every row to a rival comes back short: go on
            batch = s.store.claim_deliveries(
                "crm", now=now, lease=timedelta(minutes=1), token=f"t{n}", limit=7
            )
            with lock:
                claimed[n].extend(d.id for d in batch)
                if sum(map(len, claimed)) >= 300:
                    return

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [ident for ids in claimed for ident in ids]
    assert len(every) == len(set(every)) == 300  # each row claimed once, none left behind


def test_a_report_joining_an_entry_announces_the_entry_it_joined(
    project_dir: Path, db_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the worker's own ingest: a second report of the same event joins the first
    one's entry, so subscribers get ``item.updated`` for that entry, showing what it shows."""
    from worker.jobs import Worker

    (project_dir / "seeds" / "zz-second-report.txt").write_text(
        "Session report.\n" + SEED_TEXT, encoding="utf-8"
    )
    monkeypatch.setenv("HOOK_SECRET", TEST_SECRET)
    hooks = [{"name": "crm", "url": receiver.url, "secret": "env:HOOK_SECRET"}]
    settings = make_settings(
        project_dir, db_url, webhooks=hooks, delivery={"allow_private_targets": True}
    )
    worker = Worker(settings)
    try:
        reports = worker.ingest_seeds()
        assert [(r.created, r.updated) for r in reports] == [(1, 0), (0, 1)]
        assert worker.deliver().delivered == 2
    finally:
        worker.close()
    created, updated = sorted(receiver.verified(), key=lambda p: p["type"])
    assert (created["type"], updated["type"]) == ("item.created", "item.updated")
    assert updated["data"]["id"] == created["data"]["id"]
    assert updated["data"]["source"] == created["data"]["source"] == f"seed:{SEED_FILE.name}"


def test_an_entry_going_back_to_an_earlier_state_is_announced_again(store: Store) -> None:
    """A → B → A → B: the second B is the same change as the first, but a new one all the
    same; the outbox writes it under the next id of that change, in order."""
    now = datetime(2024, 6, 7, 8, 0, tzinfo=UTC)
    store.sync_subscribers([("crm", "http://127.0.0.1/hook")])
    change = NewDelivery("msg_b", "crm", "e1", "item.updated", "{}", now)
    for _ in range(3):
        store.add_deliveries([change])
    assert [d.id for d in store.deliveries()] == ["msg_b", "msg_b_2", "msg_b_3"]
