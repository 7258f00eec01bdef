"""Talking to the running Copilot: SSE parsing and reading the audit trail through its admin API."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from graders.sdk.copilot import CopilotService

AUDIT_WAIT_S = 5.0


def tiny_png() -> bytes:
    """A 64x64 grey PNG: an upload every vision route accepts."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: Any
    raw: str
    at_s: float  # seconds after the request was sent


@dataclass
class SseResult:
    status: int
    content_type: str
    events: list[SseEvent]
    body: str = ""
    error: str | None = None


def _parse_block(block: str, at_s: float) -> SseEvent | None:
    name, data_lines = "message", []
    for line in block.splitlines():
        if line.startswith(":"):
            continue  # comments and keep-alive pings
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value.strip() or "message"
        elif field == "data":
            data_lines.append(value)
    if not data_lines:
        return None
    raw = "\n".join(data_lines)
    try:
        data: Any = json.loads(raw)
    except ValueError:
        data = raw
    return SseEvent(name, data, raw, at_s)


def read_sse(
    client: httpx.Client, method: str, url: str, max_events: int = 2000, deadline_s: float = 20.0, **kwargs: Any
) -> SseResult:
    """Send the request and read its event stream as it arrives (time-stamped; bounded in events and time,
    so a stream that never ends is judged on what it sent)."""
    started = time.perf_counter()
    try:
        with client.stream(method, url, **kwargs) as response:
            content_type = response.headers.get("content-type", "")
            if response.status_code != 200 or not content_type.startswith("text/event-stream"):
                body = response.read().decode("utf-8", "replace")[:2000]
                return SseResult(response.status_code, content_type, [], body)
            events: list[SseEvent] = []
            buffer = ""
            for chunk in response.iter_text():
                buffer += chunk.replace("\r\n", "\n")
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    event = _parse_block(block, time.perf_counter() - started)
                    if event is not None:
                        events.append(event)
                if len(events) >= max_events or time.perf_counter() - started > deadline_s:
                    break
            tail = _parse_block(buffer, time.perf_counter() - started) if buffer.strip() else None
            if tail is not None:
                events.append(tail)
            return SseResult(200, content_type, events)
    except httpx.HTTPError as exc:
        return SseResult(0, "", [], error=f"{type(exc).__name__}: {exc}")


class AuditReader:
    """Reads records through ``GET /v1/audit`` (as an administrator), polling while they are written.

    Records are written off the request path, so they may appear a moment after the response. Once a
    wait has ended with nothing found, the trail is evidently not being written, and later waits are
    short: a submission without a working middleware gets its feedback in seconds, not minutes.
    """

    def __init__(self, service: CopilotService, wait_s: float = AUDIT_WAIT_S, short_wait_s: float = 1.0) -> None:
        self.service = service
        self.wait_s = wait_s
        self.short_wait_s = short_wait_s
        self.silent = False

    def records(
        self, client: httpx.Client, expect: int = 1, wait_s: float | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Records matching ``filters``, polled until ``expect`` of them are there; and why the API failed."""
        params = {"limit": 500, **filters}
        budget = self.short_wait_s if self.silent else (wait_s or self.wait_s)
        deadline = time.monotonic() + budget
        items: list[dict[str, Any]] = []
        while True:
            try:
                response = client.get("/v1/audit", params=params, headers=self.service.admin_headers())
            except httpx.HTTPError as exc:
                return items, f"GET /v1/audit failed: {type(exc).__name__}"
            if response.status_code != 200:
                return items, f"GET /v1/audit answered {response.status_code}: {response.text[:200]}"
            try:
                body = response.json()
                items = [i for i in body.get("items", []) if isinstance(i, dict)]
            except (ValueError, AttributeError):
                return items, "GET /v1/audit did not answer a JSON object with 'items'"
            if len(items) >= expect or time.monotonic() > deadline:
                self.silent = not items
                return items, None
            time.sleep(0.1)
