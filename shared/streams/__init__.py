"""Live streams: a URL watched by one ingest task, cut into segments that are scored as they
close, with a rolling verdict, alerts and server-sent events (docs/streams.md).

- `urls`: which URLs may be read, the SSRF guard, credential redaction, the ffmpeg target.
- `ingest`: ffmpeg reading a URL into closed segments (reconnects, limits, graceful stop).
- `rolling`: the rolling verdict and alert hysteresis (pure).
- `service`: create, read, list, stop; the public document; events (torch-free: the API uses it).
- `work`: what the ingest and detect tasks do, the finish, the reconciler (imports the pipeline).
"""
