"""Inspection-image classification."""

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, UploadFile

from copilot.api.deps import AuditContextDep, CurrentPrincipal, ServicesDep, authorize_subject
from copilot.api.errors import error_responses
from copilot.observability.metrics import observe_vision
from copilot.rag.schemas import EquipmentId, PlantCode
from copilot.vision.images import TOO_LARGE, ImageRejected, check_content_type, decode_image
from copilot.vision.schemas import Classification

router = APIRouter(prefix="/v1/vision", tags=["vision"])
READ_CHUNK = 256 * 1024


async def read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refusing (413) as soon as it passes ``max_bytes``."""
    chunks, size = [], 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ImageRejected(413, TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/classify", response_model=Classification, responses=error_responses(400, 401, 403, 413, 415, 503))
async def classify(
    image: Annotated[UploadFile, File(description="PNG or JPEG inspection image")],
    plant: Annotated[PlantCode, Form()],
    principal: CurrentPrincipal,
    services: ServicesDep,
    audit: AuditContextDep,
    equipment: Annotated[EquipmentId | None, Form()] = None,
) -> Classification:
    """Classify a surface inspection image as ok, scratch, dent or corrosion."""
    authorize_subject(principal, services, audit, plant, equipment)
    check_content_type(image.content_type)
    settings = services.settings
    data = await read_limited(image, settings.max_upload_bytes)
    vision = services.vision
    pixels = await anyio.to_thread.run_sync(
        decode_image, data, image.content_type, settings.max_image_pixels, vision.image_size
    )
    prediction = await vision.classify(pixels)
    found = services.registry.get(equipment) if equipment else None
    observe_vision(
        line=found.line if found else None,
        label=prediction.label,
        confidence=prediction.confidence,
        defective=prediction.label != "ok",
    )
    return Classification(
        label=prediction.label,
        confidence=prediction.confidence,
        probabilities=prediction.probabilities,
        model_version=prediction.model_version,
        plant=plant,
        equipment=equipment,
    )
