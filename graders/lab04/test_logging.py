"""Structured JSON logs carrying the correlation id, and their shipping to OpenSearch/Elasticsearch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graders.lab04 import monitoring_files as files
from graders.lab04.sections import SECTION_LOGGING
from graders.lab04.service_probe import ServiceProbe
from graders.sdk import Checklist, Submission, SubmissionFileError, check, fail

CORRELATION_KEYS = re.compile(r"correlation|request_id|requestid|trace_id", re.IGNORECASE)
SEARCH_OUTPUTS = ("opensearch", "es", "elasticsearch")
_SECTION = re.compile(r"^\s*\[([A-Za-z_]+)\]\s*$")


@check(6, "JSON log lines carry the correlation id from X-Request-ID", section=SECTION_LOGGING)
def test_logs_correlation_id(service_probe: ServiceProbe, checklist: Checklist) -> None:
    probe = service_probe
    if probe.error:
        fail(probe.error)
    rid = probe.request_id
    checklist.require(
        bool(probe.echoed_request_ids) and all(v == rid for v in probe.echoed_request_ids),
        f"responses should echo the caller's X-Request-ID header (sent {rid}, got {probe.echoed_request_ids[:1]}) "
        "so a user can quote it in a support ticket",
    )
    records = probe.json_logs()
    checklist.require(
        bool(records),
        "the service's log lines are not JSON objects: render them with structlog's JSONRenderer "
        "(LOG_FORMAT=json) so ELK/OpenSearch can index their fields",
    )
    carrying = [r for r in records if any(CORRELATION_KEYS.search(str(k)) and v == rid for k, v in r.items())]
    checklist.require(
        bool(carrying),
        f"no JSON log line carries the request's id ({rid}) in a correlation_id field: bind X-Request-ID to the "
        "correlation-id context variable for the request and add it to every log line",
        weight=2,
    )


@dataclass
class Shipper:
    """What a log shipper configuration does, whatever its format."""

    file: str
    outputs: list[str] = field(default_factory=list)
    parser_refs: list[str] = field(default_factory=list)
    decodes_json: bool = False


def _classic_sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Fluent Bit's classic format: ``[SECTION]`` headers followed by ``Key Value`` lines."""
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        header = _SECTION.match(line)
        if header:
            sections.append((header.group(1).upper(), {}))
        elif sections:
            key, _, value = line.strip().partition(" ")
            sections[-1][1][key.lower()] = value.strip()
    return sections


def _read_shipping(submission: Submission) -> tuple[list[Shipper], set[str], list[tuple[str, Any]]]:
    """(shipper configs, names of JSON parsers, JSON documents) found under monitoring/logging."""
    shippers: list[Shipper] = []
    json_parsers: set[str] = {"json"}
    documents: list[tuple[str, Any]] = []
    for rel in submission.glob("**/*", under=files.LOGGING):
        try:
            if rel.endswith(".json"):
                documents.append((rel, submission.load_json(rel)))
            elif rel.endswith((".yaml", ".yml")):
                _from_yaml(rel, submission.load_yaml(rel), shippers, json_parsers)
            elif rel.endswith(".conf"):
                _from_classic(rel, _classic_sections(submission.read_text(rel)), shippers, json_parsers)
        except SubmissionFileError:
            continue
    return shippers, json_parsers, documents


def _from_yaml(rel: str, doc: Any, shippers: list[Shipper], json_parsers: set[str]) -> None:
    if not isinstance(doc, dict):
        return
    for parser in doc.get("parsers") or []:
        if isinstance(parser, dict) and str(parser.get("format", "")).lower() == "json":
            json_parsers.add(str(parser.get("name")))
    pipeline = doc.get("pipeline")
    if isinstance(pipeline, dict):  # Fluent Bit YAML
        shipper = Shipper(rel)
        for kind in ("inputs", "filters"):
            for item in pipeline.get(kind) or []:
                if isinstance(item, dict):
                    shipper.parser_refs += [str(item[k]) for k in ("parser", "parser_1") if item.get(k)]
        shipper.outputs = [str(o.get("name", "")).lower() for o in pipeline.get("outputs") or [] if isinstance(o, dict)]
        shippers.append(shipper)
    filebeat = _filebeat(rel, doc)
    if filebeat is not None:
        shippers.append(filebeat)


def _filebeat(rel: str, doc: dict[str, Any]) -> Shipper | None:
    """Filebeat: JSON decoded by an ndjson parser, json.* input options or decode_json_fields."""
    nested = doc.get("filebeat")
    inputs = doc.get("filebeat.inputs") or (nested.get("inputs") if isinstance(nested, dict) else None)
    if not isinstance(inputs, list):
        return None
    text = repr(doc)
    decodes = (
        "ndjson" in text
        or "decode_json_fields" in text
        or any(isinstance(i, dict) and any(str(k).startswith("json") for k in i) for i in inputs)
    )
    output = doc.get("output.elasticsearch") or (doc.get("output") or {}).get("elasticsearch")
    return Shipper(rel, outputs=["elasticsearch"] if output else [], decodes_json=decodes)


def _from_classic(
    rel: str, sections: list[tuple[str, dict[str, str]]], shippers: list[Shipper], json_parsers: set[str]
) -> None:
    for name, values in sections:
        if name == "PARSER" and values.get("format", "").lower() == "json":
            json_parsers.add(values.get("name", ""))
    if any(name in ("INPUT", "OUTPUT") for name, _ in sections):
        shipper = Shipper(rel)
        shipper.parser_refs = [v["parser"] for n, v in sections if n in ("INPUT", "FILTER") and v.get("parser")]
        shipper.outputs = [v.get("name", "").lower() for n, v in sections if n == "OUTPUT"]
        shippers.append(shipper)


def _correlation_mapping(doc: Any) -> str | None:
    """The type an index template maps the correlation-id field to (None: no such field)."""
    if not isinstance(doc, dict) or "index_patterns" not in doc:
        return None
    mappings = doc.get("mappings") or (doc.get("template") or {}).get("mappings") or {}
    properties = mappings.get("properties") if isinstance(mappings, dict) else None
    for key, spec in (properties or {}).items():
        if CORRELATION_KEYS.search(str(key)) and isinstance(spec, dict):
            return str(spec.get("type"))
    return None


@check(3, "Log shipping parses the JSON lines into OpenSearch with a correlation_id keyword", section=SECTION_LOGGING)
def test_log_shipping(submission: Submission, checklist: Checklist) -> None:
    shippers, json_parsers, documents = _read_shipping(submission)
    if not shippers and not documents:
        fail(
            f"{files.LOGGING}/ holds no log shipping configuration: add a Fluent Bit (or Filebeat) configuration "
            "and an OpenSearch/Elasticsearch index template",
            files.LOGGING,
        )
    checklist.require(
        any(any(o in SEARCH_OUTPUTS for o in s.outputs) for s in shippers),
        "no shipper configuration sends the logs to OpenSearch or Elasticsearch (a Fluent Bit 'opensearch'/'es' "
        "output, or Filebeat's output.elasticsearch)",
        files.LOGGING,
    )
    checklist.require(
        any(s.decodes_json or any(p in json_parsers for p in s.parser_refs) for s in shippers),
        "the shipper does not parse the JSON log lines: apply a parser with 'format: json' (Fluent Bit) or an "
        "ndjson parser (Filebeat) so correlation_id, level and the audit fields become searchable fields",
        files.LOGGING,
    )
    mapped = [(rel, _correlation_mapping(doc)) for rel, doc in documents]
    mapped = [(rel, t) for rel, t in mapped if t is not None]
    checklist.require(
        any(t == "keyword" for _, t in mapped),
        "add an index template (JSON with index_patterns and mappings) that maps correlation_id as a 'keyword', "
        "so one id finds every line of a request"
        + (f" (found type {mapped[0][1]!r} in {mapped[0][0]})" if mapped else ""),
        mapped[0][0] if mapped else files.LOGGING,
    )
