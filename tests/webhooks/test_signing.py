"""Standard Webhooks signatures: the spec's published test vector, rotation, verification."""

from __future__ import annotations

import time

import pytest

from shared.webhooks.signing import (
    WebhookVerificationError,
    generate_secret,
    sign,
    signature_header,
    verify,
    webhook_headers,
)

# From the Standard Webhooks specification's examples.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_matches_the_specifications_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    headers = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS), "webhook-signature": SPEC_SIGNATURE}
    verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS + 10)


def test_secrets_are_random_whsec_base64() -> None:
    a, b = generate_secret(), generate_secret()
    assert a.startswith("whsec_") and a != b and len(a) > 40


def test_rotation_sends_one_signature_per_secret_and_either_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    now = int(time.time())
    headers = webhook_headers([new, old], "msg_1", now, b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(new, headers, b"{}")
    verify(old, headers, b"{}")
    with pytest.raises(WebhookVerificationError):
        verify(generate_secret(), headers, b"{}")


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"a": 2}'},
        {"webhook-id": "msg_2"},
        {"webhook-timestamp": str(int(time.time()) - 301)},
        {"webhook-timestamp": str(int(time.time()) + 301)},
        {"webhook-timestamp": "soon"},
        {
            "webhook-signature": "v2,"
            + sign(SPEC_SECRET, "msg_1", int(time.time()), b'{"a": 1}').split(",")[1]
        },
        {"webhook-signature": None},
    ],
)
def test_anything_altered_or_stale_is_rejected(change: dict[str, object]) -> None:
    now = int(time.time())
    body = b'{"a": 1}'
    headers: dict[str, str] = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": signature_header([SPEC_SECRET], "msg_1", now, body),
    }
    body = change.pop("body", body)  # type: ignore[assignment]
    for k, v in change.items():
        if v is None:
            headers.pop(k)
        else:
            headers[k] = v  # type: ignore[assignment]
    with pytest.raises(WebhookVerificationError):
        verify(SPEC_SECRET, headers, body)  # type: ignore[arg-type]
