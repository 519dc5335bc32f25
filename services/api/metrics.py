"""Prometheus metrics of the API process (`dfs_` prefix, base units, `_total` on counters)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("dfs_http_requests_total", "HTTP requests served", ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "dfs_http_request_duration_seconds",
    "HTTP request duration",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
UPLOAD_BYTES = Counter("dfs_upload_bytes_total", "Bytes of media accepted by POST /v1/jobs")
JOBS_CREATED = Counter("dfs_jobs_created_total", "Jobs created", ["kind"])
