"""Database rows → public documents (the Job document lives in shared/ because webhooks send it too)."""

from shared.presenters import job_public

__all__ = ["job_public"]
