"""Start the student's Copilot once (graders.sdk.copilot), send a few requests, scrape ``/metrics``, keep its logs.

Every request carries a fixed, recognisable ``X-Request-ID`` and the probe paths a fixed token, so the
checks can tell a route template (``/api/v1/equipment/{equipment_id}``) from a raw path that leaked
into a label, and find the correlation id in the service's log lines.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from graders.sdk import CheckFailed, Submission, SubmissionFileError
from graders.sdk.copilot import start_copilot

REQUEST_TIMEOUT_S = 10.0
MAX_LOG_LINES = 2000
MAX_LOG_CHARS = 500_000
MAX_METRICS_BYTES = 5_000_000
LOG_WAIT_S = 2.0
# Fixed (so feedback is the same on every run) and unlike anything a Copilot route or id contains.
PROBE_TOKEN = "zz-grader-probe-4242"
PROBE_REQUEST_ID = "grader-lab04-request-0001"
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
}


@dataclass
class ServiceProbe:
    """What the grader learned from the running service (``error`` says why it learned nothing)."""

    error: str | None = None
    request_id: str = ""
    token: str = ""
    openapi_paths: set[str] = field(default_factory=set)
    templated: tuple[str, str] | None = None  # (template, the concrete path requested)
    unmatched_path: str = ""
    echoed_request_ids: list[str | None] = field(default_factory=list)
    metrics_status: int | None = None
    metrics_text: str = ""
    metrics_error: str | None = None
    families: dict[str, Any] = field(default_factory=dict)  # family name -> prometheus_client Metric
    log_lines: list[str] = field(default_factory=list)

    @property
    def exported_names(self) -> set[str]:
        """Every series name the app exports, including the suffixed names of counters and histograms."""
        names: set[str] = set()
        for name, family in self.families.items():
            names.add(name)
            names.update(name + suffix for suffix in _SUFFIXES.get(family.type, ()))
            names.update(sample.name for sample in family.samples)
        return names

    def json_logs(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log_lines:
            text = line.strip()
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    records.append(value)
        return records


def _templated_get(paths: dict[str, Any]) -> str | None:
    """A GET route with a path parameter, preferring the shortest (least likely to need a body)."""
    candidates = [
        p for p, ops in paths.items() if "{" in p and isinstance(ops, dict) and "get" in ops and p != "/metrics"
    ]
    return min(candidates, key=lambda p: (p.count("{"), len(p))) if candidates else None


def _fill(template: str, token: str) -> str:
    out, depth = [], 0
    for ch in template:
        if ch == "{":
            depth += 1
            if depth == 1:
                out.append(token)
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _exercise(base_url: str, probe: ServiceProbe, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S, headers=headers) as client:
        for _ in range(3):
            # /readyz, not /healthz: the kit's liveness layer answers /healthz before the app's middleware.
            probe.echoed_request_ids.append(client.get("/readyz").headers.get("x-request-id"))
        try:
            spec = client.get("/openapi.json").json()
            paths = spec.get("paths") if isinstance(spec, dict) else None
        except (httpx.HTTPError, ValueError):
            paths = None
        if isinstance(paths, dict):
            probe.openapi_paths = set(paths)
            template = _templated_get(paths)
            if template:
                concrete = _fill(template, probe.token)
                probe.templated = (template, concrete)
                client.get(concrete)
        probe.unmatched_path = f"/{probe.token}/no-such-route"
        client.get(probe.unmatched_path)
        with client.stream("GET", "/metrics") as response:
            probe.metrics_status = response.status_code
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_METRICS_BYTES:
                    probe.metrics_error = (
                        f"GET /metrics returned more than {MAX_METRICS_BYTES:,} bytes after a handful of "
                        "requests: some label takes unbounded values (raw paths, ids?)"
                    )
                    return
        probe.metrics_text = body.decode("utf-8", errors="replace") if probe.metrics_status == 200 else ""
    if probe.metrics_text:
        try:
            probe.families = {f.name: f for f in text_string_to_metric_families(probe.metrics_text)}
        except ValueError as exc:
            probe.metrics_error = f"GET /metrics is not in the Prometheus text format: {exc}"


def probe_service(submission: Submission, python: str, scratch: Path) -> ServiceProbe:
    """Run the student's API in a subprocess (graders.sdk.copilot) and record what the checks need."""
    probe = ServiceProbe(request_id=PROBE_REQUEST_ID, token=PROBE_TOKEN)
    try:
        with start_copilot(submission, python, scratch) as service:
            running = service.running
            try:
                _exercise(service.base_url, probe, service.headers(request_id=probe.request_id))
            except httpx.HTTPError as exc:
                probe.error = f"the API stopped answering while the grader sent requests ({exc}); its log:\n" + (
                    running.log_tail()
                )
            # Audit records and access logs may be written just after the response: wait briefly for them.
            deadline = time.monotonic() + LOG_WAIT_S
            while probe.request_id not in running.log_text(MAX_LOG_CHARS) and time.monotonic() < deadline:
                time.sleep(0.1)
            probe.log_lines = running.log_text(MAX_LOG_CHARS).splitlines()[-MAX_LOG_LINES:]
    except CheckFailed as exc:
        probe.error = f"the Copilot API could not be started with `uvicorn copilot.main:app`: {exc.feedback}"
    except SubmissionFileError as exc:
        probe.error = f"the Copilot API could not be started: {exc}"
    return probe
