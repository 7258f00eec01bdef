"""Long-running analyses: accepted with 202, then polled until they finish."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import AuditContextDep, CurrentPrincipal, JobsDep, ServicesDep, authorize_subject
from copilot.api.errors import error_responses
from copilot.jobs.store import Job
from copilot.rag.schemas import EquipmentId, PlantCode
from copilot.security.rbac import ANALYSIS_ROLES, require_role

router = APIRouter(prefix="/v1/analyses", tags=["analyses"])
NOT_FOUND = "Analysis not found"
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Job id returned by POST /v1/analyses")]


class AnalysisRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["maintenance_history"] = "maintenance_history"
    plant: PlantCode
    equipment: EquipmentId | None = None
    question: str | None = Field(None, min_length=3, max_length=2000)


class AnalysisAccepted(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    kind: str
    status_url: str


class AnalysisStatus(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    plant: str
    equipment: str | None
    requested_by: str
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None


def _status(job: Job) -> AnalysisStatus:
    return AnalysisStatus(
        id=job.id,
        kind=job.kind,
        status=job.status,
        plant=job.plant,
        equipment=job.equipment_id,
        requested_by=job.requested_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
        result=job.result,
        error=job.error,
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnalysisAccepted,
    responses=error_responses(400, 401, 403, 503),
)
async def start_analysis(
    body: AnalysisRequest,
    response: Response,
    principal: CurrentPrincipal,
    services: ServicesDep,
    jobs: JobsDep,
    audit: AuditContextDep,
) -> AnalysisAccepted:
    """Queue an analysis; poll the returned ``status_url`` (also the ``Location`` header)."""
    authorize_subject(principal, services, audit, body.plant, body.equipment)
    require_role(principal, ANALYSIS_ROLES)
    params = {"question": body.question} if body.question else {}
    job = await jobs.submit(body.kind, body.plant, body.equipment, principal.sub, params)
    url = f"/v1/analyses/{job.id}"
    response.headers["Location"] = url
    return AnalysisAccepted(id=job.id, status=job.status, kind=job.kind, status_url=url)


@router.get("/{job_id}", response_model=AnalysisStatus, responses=error_responses(401, 404))
async def get_analysis(
    job_id: JobId, principal: CurrentPrincipal, jobs: JobsDep, audit: AuditContextDep
) -> AnalysisStatus:
    """Status and, once it succeeded, the result. Jobs of other plants are reported as not found."""
    job = await jobs.get(job_id)
    if job is None or not principal.can_access_plant(job.plant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    audit.plant, audit.equipment_id = job.plant, job.equipment_id
    return _status(job)
