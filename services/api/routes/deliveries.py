"""/v1/jobs/{id}/deliveries: the webhook delivery log of a job, and redelivery."""

from __future__ import annotations

from fastapi import APIRouter, Body

from services.api.deps import JobIdPath, PrincipalDep, SessionDep, SettingsDep
from services.api.problems import problem_responses
from services.api.schemas import RedeliverRequest
from shared.broker import enqueue
from shared.broker.queues import TaskName
from shared.db import repo, scope_for
from shared.jobs.presenters import job_document
from shared.webhooks.delivery import deliveries_of, redeliver
from shared.webhooks.presenters import delivery_public
from shared.webhooks.schemas import DeliveryList

router = APIRouter(prefix="/v1", tags=["webhooks"])


@router.get(
    "/jobs/{job_id}/deliveries",
    response_model=DeliveryList,
    responses=problem_responses(404, 422),
    summary="The job's webhook deliveries, each with every attempt",
)
def list_deliveries(job_id: JobIdPath, session: SessionDep, principal: PrincipalDep) -> DeliveryList:
    repo.get_job(session, job_id, principal.tenant_id)
    return DeliveryList(items=[delivery_public(d) for d in deliveries_of(session, job_id)])


@router.post(
    "/jobs/{job_id}/deliveries/redeliver",
    status_code=202,
    response_model=DeliveryList,
    responses=problem_responses(400, 404, 409, 422),
    summary="Send the job's webhook events again",
    description=(
        "Each event keeps its `webhook-id` (receivers deduplicate on it) and gets a fresh budget of attempts. "
        "A callback disabled by a `410 Gone` answer is enabled again. 409 if the job has not finished or has "
        "no callback URL."
    ),
)
def redeliver_job(
    job_id: JobIdPath,
    settings: SettingsDep,
    principal: PrincipalDep,
    body: RedeliverRequest | None = Body(None),
) -> DeliveryList:
    sessions = scope_for(settings)
    with sessions() as s:
        job = repo.get_job(s, job_id, principal.tenant_id, for_update=True)
        queued = redeliver(s, job, job_document(job), settings, body.delivery_id if body else None)
    for delivery_id in queued:
        enqueue(TaskName.deliver_webhook, delivery_id)
    with sessions() as s:
        return DeliveryList(items=[delivery_public(d) for d in deliveries_of(s, job_id) if d.id in queued])
