"""Prometheus metrics of the Copilot: every metric family, the HTTP middleware and ``/metrics``.

Names and labels follow ``docs/metrics-taxonomy.md`` (business KPIs, model quality, infrastructure,
cost). Two rules keep the label cardinality bounded, so Prometheus never drowns in series:

* HTTP metrics are labelled with the *route template* (``/api/v1/equipment/{equipment_id}``), never
  the raw path; requests that match no route share one label value (``UNMATCHED_ROUTE``).
* Free-form values (production lines, HTTP methods) are mapped onto a known set or ``other``.

The plant is not an application label: each deployment serves one plant and Prometheus attaches
``plant`` as a target label (``monitoring/prometheus.yml``), which keeps the dashboard's ``$plant``
variable working for every metric, exporters included.

Multi-process mode: when ``PROMETHEUS_MULTIPROC_DIR`` is set (several uvicorn/gunicorn workers),
prometheus_client keeps each worker's values in memory-mapped files in that folder and ``/metrics``
aggregates them; gauges declare how (``livesum``, ``max``). The folder must be emptied before the
server starts.
"""

from __future__ import annotations

import math
import os
import platform
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# One label value for every request that matched no route (404 scans must not create series).
UNMATCHED_ROUTE = "unmatched"
OTHER = "other"
METRICS_PATH = "/metrics"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; 2.5 is the latency SLO threshold (monitoring/alerts/copilot-rules.yml) and must stay a bucket.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RATIO_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)

# `_created` series double the series count and no dashboard or alert of ours reads them.
disable_created_metrics()

# -- infrastructure -------------------------------------------------------------------------------
# BEGIN SOLUTION lab04: define HTTP_REQUESTS, HTTP_REQUEST_DURATION and HTTP_IN_FLIGHT (docs/metrics-taxonomy.md)
HTTP_REQUESTS = Counter(
    "copilot_http_requests_total",
    "HTTP requests handled, by route template, method and status code.",
    ("route", "method", "status"),
)
HTTP_REQUEST_DURATION = Histogram(
    "copilot_http_request_duration_seconds",
    "Time from request start to the end of the response body, by route template and method.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "copilot_http_requests_in_flight",
    "HTTP requests being handled right now (saturation).",
    multiprocess_mode="livesum",
)
# END SOLUTION
BUILD_INFO = Gauge(
    "copilot_build_info",
    "Always 1; the labels say which build of the Copilot is running.",
    ("version", "commit", "python_version"),
    multiprocess_mode="max",
)
MODEL_INFO = Gauge(
    "copilot_model_info",
    "Always 1; the labels say which model (and version) serves each component.",
    ("component", "model", "version"),
    multiprocess_mode="max",
)
# copilot_queue_depth is read from the queue backend at scrape time (QueueDepthCollector).

# -- business KPIs --------------------------------------------------------------------------------
QUESTIONS_ANSWERED = Counter(
    "copilot_questions_answered_total",
    "Questions the Copilot answered, by production line.",
    ("line",),
)
ANALYST_MINUTES_SAVED = Counter(
    "copilot_analyst_minutes_saved_total",
    "Estimated maintenance-analyst minutes saved by answered questions, by production line.",
    ("line",),
)
DEFECT_DETECTIONS = Counter(
    "copilot_defect_detections_total",
    "Inspection images classified as defective, by production line and defect class.",
    ("line", "defect"),
)

# -- model quality --------------------------------------------------------------------------------
RAG_GROUNDEDNESS = Histogram(
    "copilot_rag_groundedness",
    "Share of an answer's sentences supported by the retrieved passages (0-1; a hallucination proxy).",
    buckets=RATIO_BUCKETS,
)
RAG_RETRIEVALS = Counter(
    "copilot_rag_retrievals_total",
    "Retrievals, by outcome: hit (at least one relevant passage) or miss.",
    ("outcome",),
)
VISION_CONFIDENCE = Histogram(
    "copilot_vision_confidence",
    "Confidence of the inspection classifier's top class (0-1).",
    buckets=RATIO_BUCKETS,
)
MODEL_DRIFT = Gauge(
    "copilot_model_drift_score",
    "Population stability index of a model's confidence distribution against its baseline.",
    ("component",),
    multiprocess_mode="max",
)

# -- operational cost -----------------------------------------------------------------------------
LLM_TOKENS = Counter(
    "copilot_llm_tokens_total",
    "Tokens sent to (prompt) and generated by (completion) the language model.",
    ("model", "kind"),
)
GPU_SECONDS = Counter(
    "copilot_gpu_seconds_total",
    "Accelerator time spent in inference, by component.",
    ("component",),
)
INFERENCE_COST = Counter(
    "copilot_inference_cost_usd_total",
    "Estimated inference cost in US dollars (tokens and GPU time), by component.",
    ("component",),
)

# Production lines are few and named in config/plant.yaml; a caller passing free text must not
# create unbounded series, so only the first MAX_LINES distinct slug-shaped names get their own value.
MAX_LINES = 32
_LINE_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_seen_lines: set[str] = set()


def line_label(line: str | None) -> str:
    if not line:
        return "unspecified"
    if line in _seen_lines:
        return line
    if len(line) <= 32 and _LINE_SLUG.match(line) and len(_seen_lines) < MAX_LINES:
        _seen_lines.add(line)
        return line
    return OTHER


# -- recording helpers the routes and the worker call ---------------------------------------------
def set_build_info(version: str, commit: str = "unknown") -> None:
    BUILD_INFO.labels(version, commit, platform.python_version()).set(1)


def set_model_info(component: str, model: str, version: str) -> None:
    MODEL_INFO.labels(component, model, version).set(1)


def observe_rag_answer(
    *, line: str | None, groundedness: float, retrieval_hit: bool, minutes_saved: float = 0.0
) -> None:
    """One answered question: the business count, its groundedness and whether retrieval found anything."""
    label = line_label(line)
    QUESTIONS_ANSWERED.labels(label).inc()
    if minutes_saved > 0:
        ANALYST_MINUTES_SAVED.labels(label).inc(minutes_saved)
    RAG_GROUNDEDNESS.observe(groundedness)
    RAG_RETRIEVALS.labels("hit" if retrieval_hit else "miss").inc()
    RAG_DRIFT.observe(groundedness)


def observe_vision(*, line: str | None, label: str, confidence: float, defective: bool) -> None:
    VISION_CONFIDENCE.observe(confidence)
    if defective:
        DEFECT_DETECTIONS.labels(line_label(line), label).inc()
    VISION_DRIFT.observe(confidence)


def observe_llm_usage(*, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float = 0.0) -> None:
    LLM_TOKENS.labels(model, "prompt").inc(max(prompt_tokens, 0))
    LLM_TOKENS.labels(model, "completion").inc(max(completion_tokens, 0))
    if cost_usd > 0:
        INFERENCE_COST.labels("llm").inc(cost_usd)


def observe_inference(*, component: str, seconds: float, on_gpu: bool, cost_usd: float = 0.0) -> None:
    """Inference time of a model call; only accelerator time counts as GPU-seconds."""
    if on_gpu and seconds > 0:
        GPU_SECONDS.labels(component).inc(seconds)
    if cost_usd > 0:
        INFERENCE_COST.labels(component).inc(cost_usd)


class ConfidenceDrift:
    """Population stability index (PSI) of a stream of scores in [0, 1] against a baseline.

    The baseline is the first ``window`` scores seen (or ``baseline`` when the evaluation set's
    scores are known); afterwards the PSI of the latest ``window`` scores is published every
    ``window // 4`` scores. PSI below 0.1 is stable, 0.1-0.25 a moderate shift, above 0.25 a
    significant one (the alert threshold).
    """

    def __init__(self, component: str, window: int = 200, bins: int = 10, baseline: Iterable[float] = ()) -> None:
        if window < 8 or bins < 2:
            raise ValueError("drift needs a window of at least 8 scores and at least 2 bins")
        self.component = component
        self.window = window
        self.bins = bins
        self._baseline: list[float] | None = self._fractions(list(baseline)) if baseline else None
        self._pending: list[float] = []
        self._recent: deque[float] = deque(maxlen=window)
        self._since_publish = 0
        self.score: float | None = None

    def _fractions(self, scores: list[float]) -> list[float]:
        counts = [0] * self.bins
        for s in scores:
            counts[min(max(int(s * self.bins), 0), self.bins - 1)] += 1
        total = max(len(scores), 1)
        return [max(c / total, 1e-4) for c in counts]  # floor: an empty bin must not give log(0)

    def observe(self, score: float) -> None:
        if math.isnan(score):
            return
        if self._baseline is None:
            self._pending.append(score)
            if len(self._pending) >= self.window:
                self._baseline = self._fractions(self._pending)
                self._pending = []
            return
        self._recent.append(score)
        self._since_publish += 1
        if len(self._recent) == self.window and self._since_publish >= max(self.window // 4, 1):
            self._since_publish = 0
            actual = self._fractions(list(self._recent))
            self.score = sum((a - e) * math.log(a / e) for a, e in zip(actual, self._baseline, strict=True))
            MODEL_DRIFT.labels(self.component).set(self.score)


RAG_DRIFT = ConfidenceDrift("rag")
VISION_DRIFT = ConfidenceDrift("vision")


class QueueDepthCollector:
    """``copilot_queue_depth{queue}``, read from the job queue backend when Prometheus scrapes.

    Reading at scrape time (instead of updating a gauge on every enqueue) stays right with several
    API processes and with external queues (Redis, Pub/Sub) that workers drain elsewhere.
    """

    def __init__(self, depths: Callable[[], Mapping[str, int]]) -> None:
        self._depths = depths

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("copilot_queue_depth", "Jobs waiting in each job queue.", labels=["queue"])
        try:
            for queue, depth in self._depths().items():
                family.add_metric([queue], float(depth))
        except Exception:  # a broken queue backend must not break the whole scrape
            pass
        yield family


class AuditTrailCollector:
    """``copilot_audit_*``: the audit writer's health and record counts, read at scrape time.

    ``copilot_audit_writer_up`` is 0 while records are not reaching the database (writer stopped,
    writes failing, records waiting in the spill file); ``copilot_audit_records_total{outcome}``
    counts records written, spilled, replayed from the spill file and rejected by the database.
    """

    def __init__(self, stats: Callable[[], Mapping[str, float]]) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        try:
            stats = self._stats()
        except Exception:  # never break the whole scrape
            return
        yield GaugeMetricFamily(
            "copilot_audit_writer_up",
            "1 while every audit record reaches the database; 0 while the writer is stopped or failing.",
            value=stats.get("up", 0.0),
        )
        yield GaugeMetricFamily(
            "copilot_audit_queue_depth",
            "Audit records waiting in memory to be written.",
            value=stats.get("queued", 0.0),
        )
        yield GaugeMetricFamily(
            "copilot_audit_spill_pending",
            "Audit records in the spill file, waiting to be replayed into the database.",
            value=stats.get("spill_pending", 0.0),
        )
        records = CounterMetricFamily(
            "copilot_audit_records", "Audit records by what became of them.", labels=["outcome"]
        )
        for outcome in ("written", "spilled", "replayed", "rejected"):
            records.add_metric([outcome], stats.get(outcome, 0.0))
        yield records
        yield CounterMetricFamily(
            "copilot_audit_writer_restarts",
            "Times the audit writer task failed and was restarted.",
            value=stats.get("restarts", 0.0),
        )


# -- HTTP middleware ------------------------------------------------------------------------------
# BEGIN SOLUTION lab04: (optional helper) find the route a request would match when it was answered before routing
def _matching_route(scope: Scope) -> Any:
    """The route a request would match, for requests answered before routing (auth, CORS, 404)."""
    router = getattr(scope.get("app"), "router", None)
    if router is None:
        return None
    from starlette.routing import Match

    partial = None
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


# END SOLUTION


def route_template(scope: Scope) -> str:
    """The route template of a request (``/api/v1/equipment/{equipment_id}``), never its raw path."""
    # BEGIN SOLUTION lab04: return the matched route's template (scope["route"]), UNMATCHED_ROUTE when there is none
    route = scope.get("route") or _matching_route(scope)
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return UNMATCHED_ROUTE
    # Inside a Mount, the route's path is relative to the mount point (root_path minus the app's own).
    if "app_root_path" in scope:
        root_path, app_root = scope.get("root_path", ""), scope["app_root_path"]
        if root_path.startswith(app_root):
            template = root_path[len(app_root) :] + template
    return template
    # END SOLUTION


class PrometheusMiddleware:
    """Pure ASGI middleware: request count, latency histogram and in-flight gauge per route template.

    Pure ASGI rather than ``BaseHTTPMiddleware`` so streaming (SSE) responses are not buffered and
    the overhead per request stays a few microseconds.
    """

    def __init__(self, app: ASGIApp, excluded_paths: Iterable[str] = (METRICS_PATH,)) -> None:
        self.app = app
        self.excluded_paths = frozenset(excluded_paths)
        # Labelled children, looked up once per (route, method, status): labels() costs ~2 us a call.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    # BEGIN SOLUTION lab04: (optional) cache the labelled children of HTTP_REQUESTS and HTTP_REQUEST_DURATION
    def _series(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            found = (HTTP_REQUESTS.labels(route, method, str(status)), HTTP_REQUEST_DURATION.labels(route, method))
            self._children[key] = found
        return found

    # END SOLUTION

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.excluded_paths:
            await self.app(scope, receive, send)
            return
        # BEGIN SOLUTION lab04: track in-flight, then count and time the request by route template and status
        method = scope.get("method", "GET")
        method = method if method in KNOWN_METHODS else OTHER
        status = 500  # what the client gets when the app raises before starting a response
        started = time.perf_counter()

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        _IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            _IN_FLIGHT.dec()
            route = route_template(scope)
            requests, duration = self._series(route, method, status)
            requests.inc()
            duration.observe(time.perf_counter() - started)
        # STARTER
        # await self.app(scope, receive, send)
        # END SOLUTION


# -- /metrics -------------------------------------------------------------------------------------
def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# BEGIN SOLUTION lab04: (optional) a cheaper in-flight count than two locked gauge updates per request
class _InFlightCounter:
    """The requests this process is handling, behind HTTP_IN_FLIGHT, for single-process serving.

    The event loop's thread is then the only writer, so a plain integer read by the gauge at scrape
    time does the job: a locked gauge update costs about 0.25 us, twice per request, a tenth of the
    middleware's cost. With several worker processes (PROMETHEUS_MULTIPROC_DIR) the gauge lives in
    shared files the scrape reads, so requests update the gauge itself.
    """

    def __init__(self) -> None:
        self.value = 0
        HTTP_IN_FLIGHT.set_function(lambda: self.value)

    def inc(self) -> None:
        self.value += 1

    def dec(self) -> None:
        self.value -= 1


_IN_FLIGHT: Gauge | _InFlightCounter = HTTP_IN_FLIGHT if multiprocess_dir() else _InFlightCounter()
# END SOLUTION


def render_metrics(collectors: Iterable[Any] = ()) -> bytes:
    """The text exposition of every metric: this process's, or all workers' in multi-process mode."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    extra = list(collectors)
    if extra:
        scoped = CollectorRegistry()
        for collector in extra:
            scoped.register(collector)
        output += generate_latest(scoped)
    return output


def metrics_endpoint(collectors: Iterable[Any] = ()) -> Callable[[Any], Awaitable[Any]]:
    """A Starlette endpoint serving :func:`render_metrics` (``app.add_route("/metrics", ...)``)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    extra = tuple(collectors)

    async def metrics(_request: Any) -> Response:
        # Collectors may query a backend (the job store): keep that off the event loop.
        return Response(await run_in_threadpool(render_metrics, extra), media_type=CONTENT_TYPE_LATEST)

    return metrics


def instrument(
    app: Any,
    *,
    version: str,
    commit: str | None = None,
    queue_depths: Callable[[], Mapping[str, int]] | None = None,
    audit_stats: Callable[[], Mapping[str, float]] | None = None,
) -> None:
    """Wire metrics into a FastAPI/Starlette app: the middleware, ``GET /metrics`` and the info gauges.

    ``commit`` defaults to the ``COPILOT_BUILD_COMMIT`` environment variable, else ``unknown``.
    """
    set_build_info(version, commit or os.environ.get("COPILOT_BUILD_COMMIT") or "unknown")
    collectors: list[Any] = [QueueDepthCollector(queue_depths)] if queue_depths is not None else []
    if audit_stats is not None:
        collectors.append(AuditTrailCollector(audit_stats))
    app.add_middleware(PrometheusMiddleware)
    # BEGIN SOLUTION lab04: serve the metrics on GET /metrics (metrics_endpoint), hidden from the OpenAPI schema
    app.add_route(METRICS_PATH, metrics_endpoint(collectors), methods=["GET"], include_in_schema=False)
    # END SOLUTION
