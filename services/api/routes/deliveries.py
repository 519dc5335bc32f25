"""/v1/jobs/{id}/deliveries: the webhook delivery log of a job, and redelivery."""

from __future__ import annotations

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from services.api.deps import PrincipalDep, SettingsDep
from services.api.routes.jobs import problems
from services.api.schemas import DeliveryList, RedeliverRequest
from shared.broker import enqueue
from shared.db import repo, session_scope
from shared.presenters import delivery_public
from shared.queues import TaskName
from shared.webhooks.delivery import deliveries_of, redeliver

router = APIRouter(prefix="/v1", tags=["webhooks"])


@router.get(
    "/jobs/{job_id}/deliveries",
    response_model=DeliveryList,
    responses=problems(404),
    summary="The job's webhook deliveries, each with every attempt",
)
def list_deliveries(job_id: str, settings: SettingsDep, principal: PrincipalDep) -> dict[str, object]:
    with session_scope(settings.resolved_database_url) as s:
        repo.get_job(s, job_id, principal.tenant_id)
        return {"items": [delivery_public(d) for d in deliveries_of(s, job_id)]}


@router.post(
    "/jobs/{job_id}/deliveries/redeliver",
    status_code=202,
    response_model=DeliveryList,
    responses=problems(404, 409, 422),
    summary="Send the job's webhook events again",
    description=(
        "Each event keeps its `webhook-id` (receivers deduplicate on it) and gets a fresh budget of attempts. "
        "A callback disabled by a `410 Gone` answer is enabled again. 409 if the job has not finished or has "
        "no callback URL."
    ),
)
def redeliver_job(
    job_id: str, settings: SettingsDep, principal: PrincipalDep, body: RedeliverRequest | None = Body(None)
) -> JSONResponse:
    with session_scope(settings.resolved_database_url) as s:
        job = repo.get_job(s, job_id, principal.tenant_id, for_update=True)
        queued = redeliver(s, job, settings, body.delivery_id if body else None)
    for delivery_id in queued:
        enqueue(TaskName.deliver_webhook, delivery_id)
    with session_scope(settings.resolved_database_url) as s:
        items = [delivery_public(d) for d in deliveries_of(s, job_id) if d.id in queued]
    return JSONResponse({"items": items}, status_code=202)
