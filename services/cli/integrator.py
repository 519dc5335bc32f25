"""CLI for integrators and operators: tenants, API keys, and a client for a running server.

Admin commands (`tenants`, `keys`) talk to the database named by DFS_DATABASE_URL; client
commands (`submit`, `job`) talk to a server over HTTP with an API key (--api-key or
DFS_API_KEY). Secrets and keys are printed once, when created; only hashes (keys) are kept
in a form that cannot be shown again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from services.cli.common import friendly_errors

DEFAULT_SERVER = "http://127.0.0.1:8000"


@contextmanager
def _session() -> Iterator[Any]:
    """A database session for admin commands; a missing schema or server is one readable line."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from shared.db import session_scope
    from shared.errors import DFSError

    try:
        with session_scope() as s:
            yield s
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        hint = (
            " (run `deepfakestream db upgrade`)"
            if "no such table" in reason or "does not exist" in reason
            else ""
        )
        raise DFSError(f"database error: {reason}{hint}") from exc


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


# --- tenants ------------------------------------------------------------------------------


@click.group()
def tenants() -> None:
    """Tenants: who owns API keys and jobs, and the webhook secret that signs their events."""


@tenants.command("create")
@click.argument("name")
@click.option("--id", "tenant_id", help="Tenant id (a-z, 0-9, '_', '.', '-'); default: generated.")
@click.option(
    "--max-running-jobs",
    type=click.IntRange(min=0),
    help="Cap on unfinished jobs (0 = none; default: the server's).",
)
@friendly_errors
def tenants_create(name: str, tenant_id: str | None, max_running_jobs: int | None) -> None:
    """Create a tenant; prints its id and its webhook secret (shown only now)."""
    from shared.access.tenants import create_tenant

    with _session() as s:
        tenant, secret = create_tenant(s, name, tenant_id, max_running_jobs=max_running_jobs)
        click.echo(f"tenant:         {tenant.id}")
    click.echo(f"webhook secret: {secret}")
    click.echo(
        "Store the secret now: it verifies the webhook-signature header and is not shown again.", err=True
    )


@tenants.command("list")
@friendly_errors
def tenants_list() -> None:
    """List tenants (never their secrets)."""
    from shared.access.tenants import list_tenants

    with _session() as s:
        for t in list_tenants(s):
            cap = "default" if t.max_running_jobs is None else str(t.max_running_jobs)
            rotating = (
                f"  previous secret valid until {_when(t.webhook_secret_previous_expires_at)}"
                if t.webhook_secret_previous
                else ""
            )
            click.echo(f"{t.id}\t{t.name}\tmax-running-jobs={cap}\tcreated {_when(t.created_at)}{rotating}")


@tenants.command("rotate-webhook-secret")
@click.argument("tenant_id")
@click.option(
    "--grace-hours",
    type=click.FloatRange(min=0),
    default=None,
    help="How long the old secret keeps signing alongside the new one (default DFS_WEBHOOK_SECRET_GRACE_S, 24 h).",
)
@friendly_errors
def tenants_rotate(tenant_id: str, grace_hours: float | None) -> None:
    """Make a new webhook secret (printed once). During the grace period every webhook carries
    both signatures, so receivers can switch over without losing an event."""
    from shared.access.tenants import rotate_webhook_secret
    from shared.config import get_settings

    grace = (
        timedelta(hours=grace_hours)
        if grace_hours is not None
        else timedelta(seconds=get_settings().webhook_secret_grace_s)
    )
    with _session() as s:
        new = rotate_webhook_secret(s, tenant_id, grace)
    click.echo(f"webhook secret: {new.secret}")
    if new.previous_valid_until:
        click.echo(f"the previous secret also signs until {_when(new.previous_valid_until)}", err=True)


@tenants.command("set-quota")
@click.argument("tenant_id")
@click.option("--max-running-jobs", type=click.IntRange(min=0), help="0 = no cap.")
@click.option(
    "--default", "use_default", is_flag=True, help="Use the server's DFS_MAX_RUNNING_JOBS_PER_TENANT."
)
@friendly_errors
def tenants_set_quota(tenant_id: str, max_running_jobs: int | None, use_default: bool) -> None:
    """Set the tenant's cap on unfinished (queued + processing) jobs."""
    from shared.access.tenants import set_max_running_jobs

    if (max_running_jobs is None) == (not use_default):
        raise click.UsageError("give either --max-running-jobs N or --default")
    with _session() as s:
        set_max_running_jobs(s, tenant_id, None if use_default else max_running_jobs)
    click.echo(f"{tenant_id}: max-running-jobs={'default' if use_default else max_running_jobs}")


# --- API keys -----------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """API keys (Authorization: Bearer dfs_...). Each belongs to one tenant."""


@keys.command("create")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--name", default="", help="A label (who uses the key).")
@click.option(
    "--rate-limit-per-minute",
    type=click.IntRange(min=0),
    help="Override the server's request rate (0 = unlimited).",
)
@click.option("--burst", type=click.IntRange(min=1), help="Override the token bucket size.")
@friendly_errors
def keys_create(tenant_id: str, name: str, rate_limit_per_minute: int | None, burst: int | None) -> None:
    """Create a key; prints it once (only its hash is stored)."""
    from shared.access.auth import create_api_key

    with _session() as s:
        key, token = create_api_key(
            s, tenant_id, name, rate_limit_per_minute=rate_limit_per_minute, rate_limit_burst=burst
        )
        click.echo(f"key id: {key.id}", err=True)
    click.echo(token)


@keys.command("list")
@click.option("--tenant", "tenant_id", default=None)
@friendly_errors
def keys_list(tenant_id: str | None) -> None:
    """List keys: id, prefix, tenant, name, state (never the key itself)."""
    from shared.access.auth import list_api_keys

    with _session() as s:
        for k in list_api_keys(s, tenant_id):
            state = f"revoked {_when(k.revoked_at)}" if k.revoked_at else "active"
            click.echo(
                f"{k.id}\t{k.prefix}…\t{k.tenant_id}\t{k.name or '-'}\t{state}\tlast used {_when(k.last_used_at)}"
            )


@keys.command("revoke")
@click.argument("key")
@friendly_errors
def keys_revoke(key: str) -> None:
    """Revoke a key by id or prefix; it answers 401 from the next request on."""
    from shared.access.auth import revoke_api_key

    with _session() as s:
        revoked = revoke_api_key(s, key)
        click.echo(f"revoked {revoked.id} ({revoked.prefix}…) of tenant {revoked.tenant_id}")


# --- client -------------------------------------------------------------------------------

server_option = click.option(
    "--server",
    envvar="DFS_SERVER",
    default=DEFAULT_SERVER,
    show_default=True,
    help="API base URL (or DFS_SERVER).",
)
key_option = click.option("--api-key", envvar="DFS_API_KEY", default=None, help="API key (or DFS_API_KEY).")


def _client(server: str, api_key: str | None) -> Any:
    from shared.client import Client

    return Client(server, api_key)


def _print_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(job, indent=2))
        return
    line = f"{job['id']} {job['status']}"
    result = job.get("result")
    if result:
        prob = "n/a" if result.get("probability") is None else f"{result['probability']:.3f}"
        line += f": {result['verdict']} (probability {prob}, threshold {result['threshold']:.2f})"
    elif job.get("error"):
        line += f": {job['error'].get('title')}: {job['error'].get('detail')}"
    click.echo(line)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option(
    "--stream",
    "stream_url",
    default=None,
    help="Watch this live stream URL instead of uploading a FILE (docs/streams.md); with --wait,"
    " print its segments and alerts as they are scored.",
)
@server_option
@key_option
@click.option("--callback-url", default=None, help="Where job.* webhooks are sent.")
@click.option("--metadata", default=None, help="A JSON object stored with the job.")
@click.option("--idempotency-key", default=None, help="Default: a new random key (retries stay safe).")
@click.option("--presigned", is_flag=True, help="Upload straight to object storage via a presigned URL.")
@click.option("--wait", is_flag=True, help="Wait for the job to finish and print its result.")
@click.option(
    "--timeout",
    type=float,
    default=1800.0,
    show_default=True,
    help="With --wait: give up after this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@friendly_errors
def submit(
    file: Path | None,
    stream_url: str | None,
    server: str,
    api_key: str | None,
    callback_url: str | None,
    metadata: str | None,
    idempotency_key: str | None,
    presigned: bool,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Submit FILE (or, with --stream URL, a live stream) to a running DeepfakeStream server."""
    meta = None
    if metadata:
        try:
            meta = json.loads(metadata)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--metadata") from exc
    if (file is None) == (stream_url is None):
        raise click.UsageError("give either FILE or --stream URL")
    if stream_url is not None:
        _submit_stream(stream_url, server, api_key, callback_url, meta, idempotency_key, wait, as_json)
        return
    assert file is not None
    with _client(server, api_key) as client:
        job = client.submit(
            file,
            callback_url=callback_url,
            metadata=meta,
            idempotency_key=idempotency_key,
            presigned=presigned,
        )
        if wait:
            job = client.wait(job["id"], timeout=timeout)
    _print_job(job, as_json)
    if wait and job["status"] != "completed":
        raise SystemExit(1)


def _submit_stream(
    url: str,
    server: str,
    api_key: str | None,
    callback_url: str | None,
    metadata: dict[str, Any] | None,
    idempotency_key: str | None,
    wait: bool,
    as_json: bool,
) -> None:
    from services.cli.streams import render_event

    with _client(server, api_key) as client:
        stream = client.create_stream(
            url, callback_url=callback_url, metadata=metadata, idempotency_key=idempotency_key
        )
        if not wait:
            click.echo(
                json.dumps(stream, indent=2) if as_json else f"stream {stream['id']}: {stream['status']}"
            )
            return
        click.echo(f"stream {stream['id']}: watching {stream['url']}", err=True)
        final = None
        for event in client.stream_events(stream["id"]):
            if as_json:
                click.echo(json.dumps({"event": event["event"], "id": event["id"], **event["data"]}))
            else:
                click.echo(render_event(event["event"], event["data"]))
            if event["event"] == "status":
                final = event["data"]["status"]
    if final == "failed":
        raise SystemExit(1)


@click.group("job")
def job_group() -> None:
    """Read, cancel or inspect a job on a running server."""


@job_group.command("get")
@click.argument("job_id")
@server_option
@key_option
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def job_get(job_id: str, server: str, api_key: str | None, as_json: bool) -> None:
    with _client(server, api_key) as client:
        _print_job(client.get(job_id), as_json)


@job_group.command("cancel")
@click.argument("job_id")
@server_option
@key_option
@click.option("--purge", is_flag=True, help="Also remove the job record.")
@friendly_errors
def job_cancel(job_id: str, server: str, api_key: str | None, purge: bool) -> None:
    """Cancel a job and delete its media (DELETE /v1/jobs/{id})."""
    with _client(server, api_key) as client:
        job = client.delete(job_id, purge=purge)
    click.echo(f"{job_id} purged" if job is None else f"{job_id} {job['status']}, media deleted")


@job_group.command("deliveries")
@click.argument("job_id")
@server_option
@key_option
@click.option("--redeliver", is_flag=True, help="Send the job's events again first.")
@friendly_errors
def job_deliveries(job_id: str, server: str, api_key: str | None, redeliver: bool) -> None:
    """The job's webhook deliveries and their attempts."""
    with _client(server, api_key) as client:
        if redeliver:
            client.redeliver(job_id)
        click.echo(json.dumps(client.deliveries(job_id), indent=2))


def register(cli: click.Group) -> None:
    for command in (tenants, keys, submit, job_group):
        cli.add_command(command)
