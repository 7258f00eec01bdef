"""The Cloud Run service definitions: structure, traffic and canary, secrets, identity, probes, limits, wiring."""

from __future__ import annotations

import re
from typing import Any

from graders.lab06 import secret_refs, sections
from graders.lab06.knative import SERVICE_API, Service, ServiceSet, require_api, structure_problems
from graders.lab06.plant_data import PlantData
from graders.sdk import Checklist, Submission, check, fail

DEFAULT_ACCOUNTS = (
    re.compile(r"^[0-9]+-compute@developer\.gserviceaccount\.com$"),
    re.compile(r"@appspot\.gserviceaccount\.com$"),
)
DEDICATED_ACCOUNT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$")
CLOUD_SQL_INSTANCE = re.compile(r"^[a-z][a-z0-9:.-]*:[a-z]+-[a-z]+[0-9]+:[a-z][a-z0-9-]*$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
COST_KEYS = ("cost_center", "cost-center", "costcenter", "cost_centre")
EGRESS = ("all-traffic", "private-ranges-only")
LABEL_DEDUCTION = 0.4
CPU_WHOLE = {"1", "2", "4", "6", "8"}
MIN_MEMORY_GIB = {"4": 2.0, "6": 4.0, "8": 4.0}
MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}


def _services_or_fail(submission: Submission, services: ServiceSet) -> list[Service]:
    require_api(submission, services)
    return services.services


# -- structure ----------------------------------------------------------------------------------------------
@check(7, "The Cloud Run services are valid Knative serving.knative.dev/v1 Services", section=sections.SERVICE)
def test_knative_structure(submission: Submission, services: ServiceSet, checklist: Checklist) -> None:
    found = _services_or_fail(submission, services)
    for message, location in services.problems:
        checklist.require(False, message, location)
    for service in found:
        problems = structure_problems(service)
        shown = "; ".join(message for message, _ in problems[:4])
        checklist.require(
            not problems,
            f"{service.path} ({service.name or 'unnamed'}): {shown}",
            service.where(submission, *problems[0][1]) if problems else service.path,
            weight=2 if service.path == SERVICE_API else 1,
        )


# -- traffic ---------------------------------------------------------------------------------------------------
def traffic_problems(service: Service) -> list[str]:
    traffic = service.traffic
    if traffic is None and service.path != SERVICE_API:
        return []  # Knative's default: all traffic to the latest revision
    if traffic is None:
        return ["spec.traffic is missing: list the stable revision and the tagged canary, percents adding up to 100"]
    if not isinstance(traffic, list) or not traffic or not all(isinstance(e, dict) for e in traffic):
        return ["spec.traffic must be a list of entries (revisionName or latestRevision, percent, tag)"]
    problems, total, tags = [], 0, []
    for i, entry in enumerate(traffic):
        percent = entry.get("percent", 0)
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            problems.append(f"traffic[{i}].percent must be a whole number from 0 to 100 (got {percent!r})")
            continue
        total += percent
        pinned, latest = entry.get("revisionName"), entry.get("latestRevision") is True
        if bool(pinned) == latest:
            problems.append(f"traffic[{i}] needs exactly one of revisionName or latestRevision: true")
        elif pinned and service.name and not str(pinned).startswith(service.name + "-"):
            problems.append(f"traffic[{i}].revisionName {pinned!r} is not a revision of {service.name}")
        if entry.get("tag") is not None:
            tags.append(str(entry["tag"]))
    if total != 100 and not any("percent" in p for p in problems):
        problems.append(f"the traffic percents add up to {total}, not 100: Cloud Run refuses the split")
    duplicates = sorted({t for t in tags if tags.count(t) > 1})
    if duplicates:
        problems.append(f"tag(s) used twice: {', '.join(duplicates)}")
    return problems


@check(5, "Traffic entries name their revision and add up to 100 %", section=sections.CANARY)
def test_traffic_split(submission: Submission, services: ServiceSet, checklist: Checklist) -> None:
    for service in _services_or_fail(submission, services):
        problems = traffic_problems(service)
        checklist.require(
            not problems,
            f"{service.path}: " + "; ".join(problems),
            service.where(submission, "spec", "traffic") if service.traffic is not None else service.path,
            weight=2 if service.path == SERVICE_API else 1,
        )


@check(
    5,
    "The API's new revision is a tagged canary beside a pinned stable revision",
    section=sections.CANARY,
)
def test_tagged_canary(submission: Submission, services: ServiceSet, checklist: Checklist) -> None:
    api = require_api(submission, services)
    traffic = [e for e in api.traffic if isinstance(e, dict)] if isinstance(api.traffic, list) else []
    where = api.where(submission, "spec", "traffic") if traffic else api.path
    new = api.revision_name
    canary = next(
        (e for e in traffic if e.get("tag") and ((new and e.get("revisionName") == new) or e.get("latestRevision"))),
        None,
    )
    checklist.require(
        canary is not None,
        f"spec.traffic has no tagged entry for the new revision {new or '(name it in spec.template.metadata.name)'}: "
        "add one with 'tag: canary' so it gets its own URL (https://canary---...) for smoke tests before it takes "
        "traffic",
        where,
        weight=2,
    )
    if canary is not None:
        percent = canary.get("percent", 0)
        checklist.require(
            isinstance(percent, int) and percent <= 50,
            f"the canary entry takes {percent} %: a canary starts small (0-50 %) and grows in steps with "
            "`gcloud run services update-traffic`",
            where,
        )
    stable = [e for e in traffic if e is not canary and e.get("revisionName") and e.get("revisionName") != new]
    checklist.require(
        bool(stable) and sum(int(e.get("percent") or 0) for e in stable) > 0,
        "no stable revision pinned by revisionName keeps the remaining traffic (latestRevision moves with every "
        "deploy, so it cannot be the stable side of a canary)",
        where,
    )


# -- secrets ---------------------------------------------------------------------------------------------------
@check(7, "Secrets come from Secret Manager by reference, never as literal values", section=sections.SECRETS)
def test_secrets_by_reference(submission: Submission, services: ServiceSet) -> None:
    found = _services_or_fail(submission, services)
    messages: list[str] = []
    for service in found:
        problems, provides_jwt = secret_refs.secret_problems(service)
        messages.extend(f"{service.path}: {p}" for p in problems)
        if service.path == SERVICE_API and not provides_jwt:
            messages.append(
                f"{service.path}: COPILOT_JWT_SECRET is not provided: the service refuses to start in production "
                "without it; add it as env with valueFrom.secretKeyRef (name: the secret, key: its version)"
            )
    if messages:
        fail("; ".join(messages[:5]), found[0].path if found else SERVICE_API)


# -- identity --------------------------------------------------------------------------------------------------
@check(6, "Each service runs as its own dedicated service account", section=sections.IAM)
def test_service_account(submission: Submission, services: ServiceSet, checklist: Checklist) -> None:
    seen: dict[str, str] = {}
    for service in _services_or_fail(submission, services):
        account = str(service.revision_spec.get("serviceAccountName") or "")
        where = service.where(submission, "spec", "template", "spec")
        if not account:
            fail(
                f"{service.path}: spec.template.spec.serviceAccountName is not set, so the revision runs as the "
                "default compute service account (Editor on the whole project); create a dedicated one",
                where,
            )
        if any(p.search(account) for p in DEFAULT_ACCOUNTS):
            fail(
                f"{service.path}: {account} is a default service account (Editor on the whole project); run as a "
                "dedicated account holding only the roles this service needs",
                service.where(submission, "spec", "template", "spec", "serviceAccountName"),
            )
        checklist.require(
            bool(DEDICATED_ACCOUNT.match(account)),
            f"{service.path}: {account} is not a user-managed service account (NAME@PROJECT.iam...); run as a "
            "dedicated account holding only the roles this service needs",
            service.where(submission, "spec", "template", "spec", "serviceAccountName"),
        )
        if account in seen:
            checklist.require(
                False,
                f"{service.path} and {seen[account]} share {account}: give each service its own account so each "
                "gets only the roles it needs",
                service.where(submission, "spec", "template", "spec", "serviceAccountName"),
            )
        seen[account] = service.path


# -- probes ------------------------------------------------------------------------------------------------------
HANDLERS = ("httpGet", "tcpSocket", "grpc")


def _probe_handler(probe: Any) -> str | None:
    handlers = [h for h in HANDLERS if isinstance(probe, dict) and h in probe]
    return handlers[0] if len(handlers) == 1 else None


@check(5, "Startup and liveness probes on the service's health endpoints", section=sections.SERVICE)
def test_probes(submission: Submission, services: ServiceSet, checklist: Checklist) -> None:
    for service in _services_or_fail(submission, services):
        container = service.ingress_container
        if container is None:
            checklist.require(False, f"{service.path}: no container to probe", service.path)
            continue
        path = service.container_path(container)
        weight = 2.0 if service.path == SERVICE_API else 1.0
        declared = [p for p in container.get("ports") or [] if isinstance(p, dict)]
        ports = {p.get("containerPort") for p in declared} | {p.get("name") for p in declared if p.get("name")}
        startup, liveness = container.get("startupProbe"), container.get("livenessProbe")
        checklist.require(
            _probe_handler(startup) is not None,
            f"{service.path}: add a startupProbe (httpGet on /readyz for the API) so traffic waits until the index "
            "and model are loaded",
            service.where(submission, *path),
            weight=weight,
        )
        liveness_handler = _probe_handler(liveness)
        checklist.require(
            liveness_handler in ("httpGet", "grpc"),
            f"{service.path}: add a livenessProbe with httpGet (Cloud Run's liveness probes support HTTP and gRPC, "
            "not TCP) so a hung instance is restarted",
            service.where(submission, *path),
            weight=weight,
        )
        for kind, probe in (("startupProbe", startup), ("livenessProbe", liveness)):
            handler = _probe_handler(probe)
            action = probe.get(handler) if handler and isinstance(probe, dict) else None
            port = action.get("port") if isinstance(action, dict) else None
            if port is not None and ports and port not in ports:
                checklist.require(
                    False, f"{service.path}: {kind} probes port {port}, not the container port", service.path
                )
        if service.path == SERVICE_API and liveness_handler == "httpGet" and isinstance(liveness, dict):
            action = liveness["httpGet"] if isinstance(liveness["httpGet"], dict) else {}
            live_path = str(action.get("path", "/"))
            checklist.require(
                "ready" not in live_path,
                f"{service.path}: the liveness probe asks {live_path}: readiness fails when a dependency (the "
                "database) is down, and Cloud Run would then restart every instance; probe /healthz",
                service.where(submission, *path, "livenessProbe"),
            )


# -- limits and scaling --------------------------------------------------------------------------------------
def memory_bytes(text: str) -> float | None:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|K|M|G)?", text.strip())
    if not match:
        return None
    return float(match.group(1)) * MEMORY_UNITS.get(match.group(2) or "", 1)


def cpu_ok(text: str) -> bool:
    if text in CPU_WHOLE:
        return True
    milli = re.fullmatch(r"([0-9]+)m", text)
    if milli:
        return 80 <= int(milli.group(1)) <= 1000 or str(int(milli.group(1)) // 1000) in CPU_WHOLE
    try:
        return 0.08 <= float(text) < 1
    except ValueError:
        return False


def scaling_problems(service: Service) -> list[str]:
    problems = []
    container = service.ingress_container or (service.containers[0] if service.containers else {})
    limits = container.get("resources", {}).get("limits") if isinstance(container.get("resources"), dict) else None
    limits = limits if isinstance(limits, dict) else {}
    cpu, memory = str(limits.get("cpu", "")), str(limits.get("memory", ""))
    if not cpu or not memory:
        problems.append("set resources.limits.cpu and .memory (Cloud Run bills and places instances by them)")
    else:
        if not cpu_ok(cpu):
            problems.append(f"cpu {cpu!r} is not a Cloud Run size (below 1, or 1, 2, 4, 6, 8)")
        size = memory_bytes(memory)
        if size is None or not 128 * 2**20 <= size <= 32 * 2**30:
            problems.append(f"memory {memory!r} must be between 128Mi and 32Gi")
        elif cpu in MIN_MEMORY_GIB and size < MIN_MEMORY_GIB[cpu] * 2**30:
            problems.append(f"{cpu} CPUs need at least {MIN_MEMORY_GIB[cpu]:g}Gi of memory on Cloud Run")
    annotations = service.template_annotations
    try:
        high = int(str(annotations["autoscaling.knative.dev/maxScale"]))
        low = int(str(annotations.get("autoscaling.knative.dev/minScale", 0)))
        if not 0 <= low <= high or high < 1:
            problems.append(f"minScale {low} and maxScale {high}: need 0 <= minScale <= maxScale, maxScale >= 1")
    except KeyError:
        problems.append(
            "set the autoscaling.knative.dev/maxScale annotation: without a cap a traffic spike scales the bill"
        )
    except ValueError:
        problems.append("minScale and maxScale annotations must be whole numbers (as strings)")
    concurrency = service.revision_spec.get("containerConcurrency")
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 1000:
        problems.append("set containerConcurrency (1-1000): how many requests one instance serves at once")
    return problems


@check(5, "CPU and memory limits, concurrency and an instance cap", section=sections.SERVICE)
def test_resources_and_scaling(submission: Submission, services: ServiceSet, checklist: Checklist) -> None:
    for service in _services_or_fail(submission, services):
        problems = scaling_problems(service)
        checklist.require(
            not problems,
            f"{service.path}: " + "; ".join(problems),
            service.where(submission, "spec", "template"),
            weight=2 if service.path == SERVICE_API else 1,
        )


# -- wiring ------------------------------------------------------------------------------------------------
@check(
    5,
    "The API reaches Cloud SQL and the VPC, and every service carries cost-allocation labels",
    section=sections.ARCHITECTURE,
)
def test_cloud_wiring(
    submission: Submission, services: ServiceSet, plant_data: PlantData, checklist: Checklist
) -> None:
    api = require_api(submission, services)
    annotations = api.template_annotations
    where = api.where(submission, "spec", "template", "metadata")
    instances = [s.strip() for s in str(annotations.get("run.googleapis.com/cloudsql-instances", "")).split(",")]
    checklist.require(
        any(CLOUD_SQL_INSTANCE.match(i) for i in instances),
        f"{api.path}: add the run.googleapis.com/cloudsql-instances annotation (PROJECT:REGION:INSTANCE) to the "
        "revision template so the Cloud SQL socket is mounted",
        where,
    )
    connector = annotations.get("run.googleapis.com/vpc-access-connector")
    interfaces = annotations.get("run.googleapis.com/network-interfaces")
    egress = annotations.get("run.googleapis.com/vpc-access-egress")
    checklist.require(
        bool(connector or interfaces) and egress in EGRESS,
        f"{api.path}: route private egress through the VPC: run.googleapis.com/vpc-access-connector (or "
        f"network-interfaces) and run.googleapis.com/vpc-access-egress ({' or '.join(EGRESS)})",
        where,
    )
    plant_label = plant_data.plant.lower()
    for service in services.services:
        labels = service.labels
        bad = [f"{k}={v}" for k, v in labels.items() if not LABEL_KEY.match(str(k)) or not LABEL_VALUE.match(str(v))]
        missing = [k for k in ("plant", "environment") if k not in labels]
        if not any(k in labels for k in COST_KEYS):
            missing.append("cost_center")
        problems = []
        if missing:
            problems.append(f"add the cost-allocation label(s) {', '.join(missing)} to metadata.labels")
        if bad:
            problems.append(f"labels must be lowercase letters, digits, '_' and '-' (not {', '.join(bad)})")
        if "plant" in labels and str(labels["plant"]) != plant_label:
            problems.append(f"labels.plant is {labels['plant']!r}; use {plant_label!r} (config/plant.yaml, lowercase)")
        if problems:
            checklist.deduct(
                LABEL_DEDUCTION, f"{service.path}: " + "; ".join(problems), service.where(submission, "metadata")
            )
