"""Outgoing webhooks: Standard Webhooks signing, the SSRF guard, and delivery with retries."""

from shared.webhooks.signing import WebhookVerificationError, generate_secret, sign, verify

__all__ = ["WebhookVerificationError", "generate_secret", "sign", "verify"]
