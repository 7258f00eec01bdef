"""Vision classification with safe uploads, and long-running analysis jobs."""

from __future__ import annotations

import io
import time
from typing import Any

from graders.lab02 import sections
from graders.lab02.plant_data import PlantData
from graders.sdk import Checklist, check, fail
from graders.sdk.copilot import CopilotService

LABELS = {"ok", "scratch", "dent", "corrosion"}


def _png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size, 0 if mode == "1" else (150, 150, 155)).save(buffer, format="PNG")
    return buffer.getvalue()


@check(points=2, name="Vision classification with upload limits", section=sections.DEPENDENCIES)
def test_vision_classify(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    copilot.wait_ready()
    client = copilot.client(timeout=30)
    headers = copilot.headers(role="operator", sub="grader-vision")
    data = {"plant": plant_data.plant}
    ok = client.post(
        "/v1/vision/classify", files={"image": ("p.png", _png((64, 64)), "image/png")}, data=data, headers=headers
    )
    body = ok.json() if ok.headers.get("content-type", "").startswith("application/json") else {}
    checklist.require(
        ok.status_code == 200
        and body.get("label") in LABELS
        and isinstance(body.get("confidence"), (int, float))
        and 0 <= body["confidence"] <= 1
        and body.get("model_version"),
        f"a 64x64 PNG should be classified (200 with label in {sorted(LABELS)}, confidence, model_version); got "
        f"{ok.status_code} {ok.text[:160]}",
    )
    wrong = client.post(
        "/v1/vision/classify", files={"image": ("notes.txt", b"hello", "text/plain")}, data=data, headers=headers
    )
    checklist.require(wrong.status_code == 415, f"a text/plain upload should be 415; got {wrong.status_code}")
    bomb = client.post(
        "/v1/vision/classify",
        files={"image": ("bomb.png", _png((12_000, 12_000), "1"), "image/png")},
        data=data,
        headers=headers,
    )
    checklist.require(
        bomb.status_code in (413, 422),
        f"a 144-megapixel PNG (a decompression bomb) should be refused with 413 or 422; got {bomb.status_code}",
    )
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (12 * 1024 * 1024)
    large = client.post(
        "/v1/vision/classify", files={"image": ("big.png", huge, "image/png")}, data=data, headers=headers
    )
    checklist.require(large.status_code == 413, f"a 12 MB upload should be 413; got {large.status_code}")


@check(points=1, name="Analyses are accepted (202) and finish with a result", section=sections.STREAMING)
def test_analysis_jobs(copilot: CopilotService, plant_data: PlantData) -> None:
    client = copilot.client()
    headers = copilot.headers(role="engineer", sub="grader-jobs")
    body = {"plant": plant_data.plant, "equipment": plant_data.own_equipment.id}
    accepted = client.post("/v1/analyses", json=body, headers=headers)
    if accepted.status_code != 202:
        fail(f"POST /v1/analyses should answer 202 Accepted; got {accepted.status_code} {accepted.text[:200]}")
    job = accepted.json()
    url = job.get("status_url") or f"/v1/analyses/{job.get('id')}"
    deadline = time.monotonic() + 30
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            fail(f"GET {url} answered {response.status_code} {response.text[:200]}")
        status = response.json()
        if status.get("status") in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    if not status or status.get("status") != "succeeded":
        fail(f"the analysis did not succeed within 30 s; last status: {str(status)[:300]}")
    if not isinstance(status.get("result"), dict):
        fail("a succeeded analysis should carry its result (a JSON object)")
