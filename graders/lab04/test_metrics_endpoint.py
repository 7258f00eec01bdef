"""The running API's /metrics: the required metric families, labelled by route template."""

from __future__ import annotations

from collections.abc import Callable

from graders.lab04.sections import SECTION_INSTRUMENTATION
from graders.lab04.service_probe import ServiceProbe
from graders.sdk import Checklist, check, fail

REQUESTS = "copilot_http_requests"  # family name as parsed (counters lose their _total suffix)
DURATION = "copilot_http_request_duration_seconds"
MODEL_QUALITY = (
    "copilot_rag_groundedness",
    "copilot_rag_retrievals",
    "copilot_vision_confidence",
    "copilot_model_drift_score",
)
COST = ("copilot_llm_tokens", "copilot_gpu_seconds", "copilot_inference_cost_usd")
HOW_TO_MOUNT = "serve Prometheus' text format on GET /metrics (prometheus_client's generate_latest)"


def scraped(probe: ServiceProbe) -> ServiceProbe:
    """The probe, or the check fails with why the service could not be scraped."""
    if probe.error:
        fail(probe.error)
    if probe.metrics_status != 200:
        fail(f"GET /metrics answered {probe.metrics_status}, so Prometheus cannot scrape the API: {HOW_TO_MOUNT}")
    if probe.metrics_error:
        fail(probe.metrics_error)
    return probe


def _samples(probe: ServiceProbe, family: str, sample: str) -> list[dict[str, str]]:
    found = probe.families.get(family)
    return [s.labels for s in found.samples if s.name == sample] if found is not None else []


def _has(probe: ServiceProbe, kind: str) -> Callable[[str], bool]:
    return lambda name: name in probe.families and probe.families[name].type == kind


@check(
    8,
    "/metrics exports the request, latency, in-flight, info, queue, model and cost families",
    section=SECTION_INSTRUMENTATION,
)
def test_metrics_families(service_probe: ServiceProbe, checklist: Checklist) -> None:
    probe = scraped(service_probe)
    requests = _samples(probe, REQUESTS, REQUESTS + "_total")
    checklist.require(
        any({"route", "method", "status"} <= set(labels) for labels in requests),
        f"{REQUESTS}_total (a counter labelled route, method and status) has no samples after the grader's "
        "requests: the metrics middleware must count every request",
        weight=3,
    )
    durations = _samples(probe, DURATION, DURATION + "_count")
    checklist.require(
        _has(probe, "histogram")(DURATION) and any({"route", "method"} <= set(labels) for labels in durations),
        f"{DURATION} (a histogram labelled route and method) has no observations after the grader's requests",
        weight=2,
    )
    checklist.require(
        _has(probe, "gauge")("copilot_http_requests_in_flight"),
        "copilot_http_requests_in_flight (a gauge of requests being handled) is missing",
    )
    checklist.require(
        any(_has(probe, "gauge")(n) for n in ("copilot_build_info", "copilot_model_info")),
        "a build/model info gauge (copilot_build_info or copilot_model_info, value 1, version labels) is missing",
    )
    checklist.require(
        _has(probe, "gauge")("copilot_queue_depth"),
        "copilot_queue_depth (a gauge of jobs waiting, labelled queue) is missing",
    )
    checklist.require(
        any(n in probe.families for n in MODEL_QUALITY),
        "no model-quality metric (copilot_rag_groundedness, copilot_vision_confidence, copilot_model_drift_score)",
    )
    checklist.require(
        any(n in probe.families for n in COST),
        "no cost metric (copilot_llm_tokens_total, copilot_gpu_seconds_total, copilot_inference_cost_usd_total)",
    )


@check(5, "Request metrics are labelled by route template, never by raw path", section=SECTION_INSTRUMENTATION)
def test_metrics_route_templates(service_probe: ServiceProbe, checklist: Checklist) -> None:
    probe = scraped(service_probe)
    requests = _samples(probe, REQUESTS, REQUESTS + "_total")
    if not requests:
        fail(f"{REQUESTS}_total has no samples after the grader's requests, so its route labels cannot be checked")
    routes = {labels.get("route", "") for labels in requests}
    leaked = sorted(r for r in routes if probe.token in r)
    checklist.require(
        not leaked,
        f"raw request paths became label values ({', '.join(leaked)}): label with the matched route's template "
        "(scope['route'].path_format) and put every unmatched request under one value, or each URL creates "
        "new series until Prometheus runs out of memory",
        weight=2,
    )
    if probe.templated is not None:
        template, concrete = probe.templated
        checklist.require(
            template in routes,
            f'the grader requested {concrete}; it should be counted under route="{template}" '
            f"(the route labels seen: {', '.join(sorted(routes)[:8])})",
        )
