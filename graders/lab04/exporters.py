"""Metric names that exist without the application exporting them.

A dashboard may query Prometheus' own series (``up``, ``ALERTS``), recording rules of the repo, and
the metrics of standard exporters, but only exporters that ``monitoring/prometheus.yml`` actually
scrapes. A scrape job is recognised as an exporter by its job name or its conventional port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Series Prometheus creates itself for every target and for alerting.
PROMETHEUS_BUILTINS = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "ALERTS",
        "ALERTS_FOR_STATE",
    }
)


@dataclass(frozen=True)
class Exporter:
    name: str
    job_words: tuple[str, ...]
    ports: tuple[int, ...]
    prefixes: tuple[str, ...]


STANDARD_EXPORTERS = (
    Exporter("node_exporter", ("node",), (9100,), ("node_",)),
    Exporter("NVIDIA DCGM exporter", ("dcgm", "gpu"), (9400,), ("DCGM_",)),
    Exporter("blackbox_exporter", ("blackbox", "probe"), (9115,), ("probe_",)),
    Exporter("redis_exporter", ("redis",), (9121,), ("redis_",)),
    Exporter("postgres_exporter", ("postgres", "postgresql"), (9187,), ("pg_",)),
    Exporter("stackdriver_exporter", ("stackdriver", "cloud-monitoring"), (9255,), ("stackdriver_",)),
    Exporter("cAdvisor", ("cadvisor",), (), ("container_", "machine_")),
    Exporter("kube-state-metrics", ("kube-state",), (), ("kube_",)),
    Exporter("Prometheus", ("prometheus",), (9090,), ("prometheus_", "prometheus_tsdb_")),
    Exporter("Pushgateway", ("pushgateway",), (9091,), ("pushgateway_", "push_time_seconds")),
)


def _ports(job: dict[str, Any]) -> set[int]:
    ports = set()
    for static in job.get("static_configs") or []:
        for target in (static or {}).get("targets") or []:
            _, _, port = str(target).rpartition(":")
            if port.isdigit():
                ports.add(int(port))
    return ports


def configured_exporters(prometheus_config: Any) -> list[tuple[Exporter, str]]:
    """(exporter, job name) for every scrape job of ``prometheus.yml`` that is a standard exporter."""
    if not isinstance(prometheus_config, dict):
        return []
    found = []
    for job in prometheus_config.get("scrape_configs") or []:
        if not isinstance(job, dict):
            continue
        name = str(job.get("job_name", ""))
        if name.lower().startswith("copilot"):  # the application's own jobs, whatever port they use
            continue
        ports = _ports(job)
        for exporter in STANDARD_EXPORTERS:
            if any(w in name.lower() for w in exporter.job_words) or ports & set(exporter.ports):
                found.append((exporter, name))
    return found


def provided_by_exporter(metric: str, exporters: list[tuple[Exporter, str]]) -> str | None:
    """The job name whose exporter provides ``metric``, or None."""
    for exporter, job in exporters:
        if metric.startswith(exporter.prefixes):
            return job
    return None


def exporter_for_prefix(metric: str) -> Exporter | None:
    """The standard exporter that would provide ``metric`` (for feedback when it is not scraped)."""
    return next((e for e in STANDARD_EXPORTERS if metric.startswith(e.prefixes)), None)
