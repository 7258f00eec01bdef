"""Dependencies the routes declare: services, settings, the caller, and access checks.

Routes take ``Annotated`` aliases (``CurrentPrincipal``, ``PipelineDep`` ...) instead of reaching
into global state, so tests override one dependency at a time and the OpenAPI document shows the
bearer-token security scheme on every protected operation.
"""

from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from copilot.audit.context import AuditContext, audit_context
from copilot.audit.store import AuditStore
from copilot.core.config import Settings
from copilot.equipment import EquipmentRegistry
from copilot.jobs.service import JobService
from copilot.rag.pipeline import RagPipeline
from copilot.security.rbac import ensure_equipment_access, ensure_plant_access
from copilot.security.tokens import InvalidToken, Principal, decode_token
from copilot.services import Services
from copilot.vision.classifier import VisionClassifier

NOT_AUTHENTICATED = "Not authenticated"
INVALID_TOKEN = "Invalid token"
TOKEN_EXPIRED = "Token expired"
UNKNOWN_PLANT = "Unknown plant"
UNKNOWN_EQUIPMENT = "Unknown equipment"
EQUIPMENT_NOT_IN_PLANT = "Equipment does not belong to this plant"

bearer_scheme = HTTPBearer(auto_error=False, description="JWT signed by the plant's identity provider")


def get_services(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_registry(services: ServicesDep) -> EquipmentRegistry:
    return services.registry


def get_pipeline(services: ServicesDep) -> RagPipeline:
    return services.pipeline


def get_vision(services: ServicesDep) -> VisionClassifier:
    return services.vision


def get_audit_store(services: ServicesDep) -> AuditStore:
    return services.audit_store


def get_jobs(services: ServicesDep) -> JobService:
    return services.jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[EquipmentRegistry, Depends(get_registry)]
PipelineDep = Annotated[RagPipeline, Depends(get_pipeline)]
VisionDep = Annotated[VisionClassifier, Depends(get_vision)]
AuditStoreDep = Annotated[AuditStore, Depends(get_audit_store)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
AuditContextDep = Annotated[AuditContext, Depends(audit_context)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def get_current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    settings: SettingsDep,
) -> Principal:
    """The verified caller; 401 for a missing, malformed, badly signed or expired token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized(NOT_AUTHENTICATED)
    try:
        principal = decode_token(credentials.credentials, settings.jwt_secret.get_secret_value(), settings.jwt_leeway_s)
    except InvalidToken as exc:
        raise _unauthorized(TOKEN_EXPIRED if exc.expired else INVALID_TOKEN) from None
    context = audit_context(request)
    context.user_id, context.role = principal.sub, principal.role
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


def field_error(source: Literal["body", "query"], name: str, message: str, value: object) -> RequestValidationError:
    """A 422 in FastAPI's own format, for checks that need the registry (not expressible in a schema)."""
    return RequestValidationError([{"type": "value_error", "loc": (source, name), "msg": message, "input": value}])


def authorize_subject(
    principal: Principal,
    services: Services,
    context: AuditContext,
    plant: str,
    equipment: str | None,
    source: Literal["body", "query"] = "body",
) -> None:
    """Record what the request is about, then check access before any data is read.

    Access is decided first (403), existence second (422), so another plant's registry cannot be
    probed: an unknown id of a foreign plant is as forbidden as a known one.
    """
    context.plant, context.equipment_id = plant, equipment
    ensure_plant_access(principal, plant)
    if plant not in services.profile.plant_codes:
        raise field_error(source, "plant", UNKNOWN_PLANT, plant)
    if equipment is None:
        return
    item = services.registry.get(equipment)
    ensure_equipment_access(principal, equipment, item.plant if item else None)
    if item is None:
        raise field_error(source, "equipment", UNKNOWN_EQUIPMENT, equipment)
    if item.plant != plant:
        raise field_error(source, "equipment", EQUIPMENT_NOT_IN_PLANT, equipment)
