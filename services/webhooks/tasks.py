"""Webhook delivery worker (queue `webhooks`)."""

from __future__ import annotations
