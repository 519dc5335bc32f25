"""Database rows → public documents (they live in shared/ because webhook payloads carry them too)."""

from shared.presenters import delivery_public, job_public, rfc3339

__all__ = ["delivery_public", "job_public", "rfc3339"]
