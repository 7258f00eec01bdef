"""Cloud Run service definitions (Knative ``serving.knative.dev/v1`` Services) read from the submission.

Cloud Run's YAML is a Knative Service whose revision template embeds a Kubernetes PodSpec. The
PodSpec part is validated with the Kubernetes schemas of kubernetes-validate (strict: a misspelt
``livenesProbe`` is an error); the Knative and Cloud Run rules, which no offline tool checks, are
written here from Cloud Run's YAML reference (cloud.google.com/run/docs/reference/yaml/v1).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import kubernetes_validate

from graders.sdk import Submission, SubmissionFileError

CLOUDRUN_DIR = "deploy/cloudrun"
SERVICE_API = f"{CLOUDRUN_DIR}/service-api.yaml"
API_VERSION = "serving.knative.dev/v1"
KUBERNETES_VERSION = "1.33.0"
# Fields of a Knative RevisionSpec that are not part of a Kubernetes PodSpec.
KNATIVE_ONLY_FIELDS = ("containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds", "idleTimeoutSeconds")
# Cloud Run sets these in every container; a service may not define them.
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"})
SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")  # Cloud Run: at most 49 characters
MAX_CONCURRENCY = 1000
MAX_TIMEOUT_S = 3600
DEFAULT_PORT = 8080  # Cloud Run's container port when a container declares none
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
PROBE_HANDLERS = ("httpGet", "tcpSocket", "grpc")


@dataclass
class Service:
    """One Knative Service document of a file under deploy/cloudrun/."""

    path: str
    doc: dict[str, Any]
    single: bool  # the only document of its file (line numbers are exact)

    @property
    def name(self) -> str:
        return str(_get(self.doc, "metadata", "name") or "")

    @property
    def template_metadata(self) -> dict[str, Any]:
        return _mapping(_get(self.doc, "spec", "template", "metadata"))

    @property
    def revision_name(self) -> str | None:
        value = self.template_metadata.get("name")
        return str(value) if value else None

    @property
    def template_annotations(self) -> dict[str, Any]:
        return _mapping(self.template_metadata.get("annotations"))

    @property
    def labels(self) -> dict[str, Any]:
        return _mapping(_get(self.doc, "metadata", "labels"))

    @property
    def revision_spec(self) -> dict[str, Any]:
        return _mapping(_get(self.doc, "spec", "template", "spec"))

    @property
    def containers(self) -> list[dict[str, Any]]:
        found = self.revision_spec.get("containers")
        return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []

    @property
    def ingress_container(self) -> dict[str, Any] | None:
        """The container that receives requests: the one with ports, or the only one."""
        with_ports = [c for c in self.containers if c.get("ports")]
        if with_ports:
            return with_ports[0]
        return self.containers[0] if len(self.containers) == 1 else None

    @property
    def traffic(self) -> Any:
        return _get(self.doc, "spec", "traffic")

    def where(self, submission: Submission, *keys: str | int) -> str:
        line = submission.yaml_line(self.path, list(keys)) if self.single else None
        return submission.location(self.path, line)

    def container_path(self, container: dict[str, Any]) -> list[str | int]:
        index = next((i for i, c in enumerate(self.containers) if c is container), 0)
        return ["spec", "template", "spec", "containers", index]


@dataclass
class ServiceSet:
    services: list[Service] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (message, location) of unreadable files

    @property
    def api(self) -> Service | None:
        return next((s for s in self.services if s.path == SERVICE_API), None)


def _get(doc: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def load_services(submission: Submission) -> ServiceSet:
    """Every Knative Service under deploy/cloudrun/ (unparsable files are reported, not raised)."""
    found = ServiceSet()
    paths = sorted(set(submission.glob(f"{CLOUDRUN_DIR}/*.yaml")) | set(submission.glob(f"{CLOUDRUN_DIR}/*.yml")))
    for path in paths:
        try:
            docs = [d for d in submission.load_yaml_all(path) if d is not None]
        except SubmissionFileError as exc:
            found.problems.append((str(exc), exc.location or path))
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Service":
                found.services.append(Service(path, doc, single=len(docs) == 1))
    return found


def require_api(submission: Submission, services: ServiceSet) -> Service:
    """The API's service definition, or SubmissionFileError saying what is wrong with the file."""
    for message, location in services.problems:
        if location.startswith(SERVICE_API):
            raise SubmissionFileError(message, SERVICE_API)
    if not submission.is_file(SERVICE_API):
        raise SubmissionFileError(
            f"{SERVICE_API} is missing: write the API's Cloud Run service (kind: Service, apiVersion: {API_VERSION})",
            SERVICE_API,
        )
    api = services.api
    if api is None:
        raise SubmissionFileError(f"{SERVICE_API} holds no document with kind: Service", SERVICE_API)
    return api


def structure_problems(service: Service) -> list[tuple[str, list[str | int]]]:
    """What Cloud Run would refuse in a service, as (message, key path) pairs."""
    problems: list[tuple[str, list[str | int]]] = []
    if service.doc.get("apiVersion") != API_VERSION:
        problems.append((f"apiVersion must be {API_VERSION} (got {service.doc.get('apiVersion')!r})", ["apiVersion"]))
    if not SERVICE_NAME.match(service.name):
        problems.append(
            (
                f"metadata.name {service.name!r} must be 1-49 lowercase letters, digits and dashes, starting with a "
                "letter",
                ["metadata", "name"],
            )
        )
    if not isinstance(_get(service.doc, "spec", "template"), dict):
        return [*problems, ("spec.template (the revision template) is missing", ["spec"])]
    revision = service.revision_name
    if revision is not None and service.name and not revision.startswith(service.name + "-"):
        problems.append(
            (
                f"spec.template.metadata.name {revision!r} must start with the service name and a dash "
                f"({service.name}-...): Cloud Run refuses other revision names",
                ["spec", "template", "metadata", "name"],
            )
        )
    if not service.containers:
        return [*problems, ("spec.template.spec.containers must list the container", ["spec", "template", "spec"])]
    for index, container in enumerate(service.containers):
        where: list[str | int] = ["spec", "template", "spec", "containers", index]
        image = str(container.get("image") or "")
        if not image:
            problems.append((f"containers[{index}] has no image", where))
        elif image.endswith(":latest") or ("@" not in image and ":" not in image.rsplit("/", 1)[-1]):
            problems.append(
                (
                    f"containers[{index}].image {image!r} must name a release tag or digest (never latest), so a "
                    "revision always runs the same image and a rollback restores it",
                    [*where, "image"],
                )
            )
        env_names = {str(e.get("name")) for e in container.get("env") or [] if isinstance(e, dict)}
        reserved = sorted(env_names & RESERVED_ENV)
        if reserved:
            problems.append(
                (f"containers[{index}] sets {', '.join(reserved)}, which Cloud Run reserves", [*where, "env"])
            )
    if len([c for c in service.containers if c.get("ports")]) > 1:
        problems.append(("only one container (the ingress container) may declare ports", ["spec", "template", "spec"]))
    concurrency = service.revision_spec.get("containerConcurrency")
    if concurrency is not None and not (isinstance(concurrency, int) and 0 <= concurrency <= MAX_CONCURRENCY):
        problems.append(
            (f"containerConcurrency must be 0-{MAX_CONCURRENCY}", ["spec", "template", "spec", "containerConcurrency"])
        )
    timeout = service.revision_spec.get("timeoutSeconds")
    if timeout is not None and not (isinstance(timeout, int) and 1 <= timeout <= MAX_TIMEOUT_S):
        problems.append((f"timeoutSeconds must be 1-{MAX_TIMEOUT_S}", ["spec", "template", "spec", "timeoutSeconds"]))
    schema_problem = podspec_problem(service)
    if schema_problem:
        problems.append(schema_problem)
    return problems


def with_default_probe_ports(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` whose probe handlers without ``port`` get the container's port.

    Knative (and Cloud Run) make a probe's port optional: it defaults to the container port (8080
    when the container declares none), where a plain Kubernetes PodSpec requires it.
    """
    spec = copy.deepcopy(spec)
    for container in spec.get("containers") or []:
        if not isinstance(container, dict):
            continue
        ports = [p.get("containerPort") for p in container.get("ports") or [] if isinstance(p, dict)]
        default = next((p for p in ports if isinstance(p, int)), DEFAULT_PORT)
        for probe in PROBES:
            handlers = container.get(probe)
            for handler in PROBE_HANDLERS:
                action = handlers.get(handler) if isinstance(handlers, dict) else None
                if isinstance(action, dict) and "port" not in action:
                    action["port"] = default
    return spec


def podspec_problem(service: Service) -> tuple[str, list[str | int]] | None:
    """The revision's PodSpec part against the Kubernetes schema (strict: unknown fields are errors)."""
    spec = {k: v for k, v in with_default_probe_ports(service.revision_spec).items() if k not in KNATIVE_ONLY_FIELDS}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": service.name or "service"}, "spec": spec}
    try:
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = list(exc.path)[1:] if list(exc.path)[:1] == ["spec"] else list(exc.path)
        shown = ".".join(str(p) for p in path) or "spec"
        return (
            f"spec.template.spec.{shown}: {exc.message} (checked against the Kubernetes {KUBERNETES_VERSION} "
            "PodSpec schema that Cloud Run's revision template uses)",
            ["spec", "template", "spec", *path],
        )
    except (kubernetes_validate.SchemaNotFoundError, KeyError, TypeError):
        return None
    return None
