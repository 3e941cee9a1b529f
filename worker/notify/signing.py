"""Standard Webhooks signatures: the three headers a receiver checks.

https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
where ``key`` is the base64 part of the ``whsec_…`` secret. The HMAC itself is the
``standardwebhooks`` package's, so we sign exactly as every receiver's library verifies.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from worker.config import ConfigError

SECRET_PREFIX = "whsec_"
#: The spec asks for secrets of 24 to 64 bytes; shorter ones are too easy to guess.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64


class WebhookSigner:
    """Signs bodies with one subscriber's secret."""

    def __init__(self, secret: str, *, key: str) -> None:
        """``secret`` is the resolved ``whsec_…`` value; ``key`` names it in errors."""
        check_secret(secret, key=key)
        self._webhook = Webhook(secret)

    def headers(self, msg_id: str, timestamp: datetime, body: str) -> dict[str, str]:
        """The ``webhook-*`` headers for one attempt posted at ``timestamp``."""
        # The library formats the timestamp as seconds of a UTC wall clock: give it UTC.
        at = timestamp.astimezone(UTC)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self._webhook.sign(msg_id, at, body),
        }


def check_secret(secret: str, *, key: str) -> None:
    """Raise ``ConfigError`` unless ``secret`` is ``whsec_`` + base64 of 24–64 bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise ConfigError(f"{key}: the secret must start with '{SECRET_PREFIX}'")
    try:
        encoded = secret[len(SECRET_PREFIX) :]
        # Some services hand out unpadded base64; the libraries accept it, so do we.
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ConfigError(f"{key}: the secret after '{SECRET_PREFIX}' is not base64") from e
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise ConfigError(
            f"{key}: the secret must decode to {MIN_SECRET_BYTES}–{MAX_SECRET_BYTES} bytes,"
            f" not {len(raw)}"
        )
