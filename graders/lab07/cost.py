"""The grader's own recomputation of the monthly cost estimate.

It prices the student's configuration with the student's price table (``terraform/pricing.yaml``)
using the model the lab teaches (the reference ``scripts/estimate_cost.py`` documents it), and
reads the totals of the committed ``terraform/cost-estimate.md``. The student's script is never
run: a stale or hand-edited estimate shows up as a difference between the two.

Per region of each environment: Cloud Run = max(min instances, busy instances) x seconds x
(vCPU x price + GiB x price); Cloud SQL = (vCPU x price + GiB x price) x hours + disk GB x price,
doubled when REGIONAL; Cloud Storage = GB x price; Pub/Sub = GiB published x 2 / 1024 x price
per TiB + GiB retained x price; KMS = keys x versions x price. Per environment: Secret Manager =
secrets x regions x price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from graders.lab07.project import ENVIRONMENTS_DIR, MODULES, TerraformProject

_VAR = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")
_TIER = re.compile(r"^db-custom-([0-9]+)-([0-9]+)$")
_MEMORY = re.compile(r"^([0-9.]+)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?$")
_TO_GIB = {
    None: 2.0**-30,
    "Ki": 2.0**-20,
    "Mi": 2.0**-10,
    "Gi": 1.0,
    "Ti": 2.0**10,
    "K": 1e3 / 2**30,
    "M": 1e6 / 2**30,
    "G": 1e9 / 2**30,
    "T": 1e12 / 2**30,
}
_TOTAL_ROW = re.compile(r"^\|\s*([A-Za-z0-9_-]+)\s*\|\s*\$?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*\|\s*$")
PRICING_FILE = "terraform/pricing.yaml"
ESTIMATE_FILE = "terraform/cost-estimate.md"


class CostModelError(Exception):
    """The configuration or the price table cannot be priced; the message says where and how to fix it."""


@dataclass(frozen=True)
class Cost:
    environment: str
    component: str
    region: str
    monthly_usd: float


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CostModelError(f"{where}: expected a number, got {value!r}") from None


class _Prices:
    def __init__(self, pricing: Any) -> None:
        if not isinstance(pricing, dict):
            raise CostModelError(f"{PRICING_FILE}: expected a mapping with as_of, regions, global and usage")
        missing = [k for k in ("as_of", "hours_per_month", "regions", "global", "usage") if k not in pricing]
        if missing:
            raise CostModelError(f"{PRICING_FILE}: missing {', '.join(missing)}")
        self.data = pricing
        self.hours = _number(pricing["hours_per_month"], f"{PRICING_FILE}: hours_per_month")

    def region(self, location: str) -> dict[str, Any]:
        for entry in self.data.get("regions") or []:
            if isinstance(entry, dict) and entry.get("name") == location:
                return entry
        raise CostModelError(f"{PRICING_FILE}: no prices for region {location}; add it under regions")

    def price(self, table: dict[str, Any], *path: str) -> float:
        value: Any = table
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            raise CostModelError(f"{PRICING_FILE}: missing price {'.'.join(path)}")
        return _number(value, f"{PRICING_FILE}: {'.'.join(path)}")

    def usage(self, environment: str, key: str) -> float:
        usage = (self.data.get("usage") or {}).get(environment)
        if not isinstance(usage, dict) or key not in usage:
            raise CostModelError(f"{PRICING_FILE}: usage.{environment}.{key} is missing")
        return _number(usage[key], f"{PRICING_FILE}: usage.{environment}.{key}")


def _gib(value: Any, where: str) -> float:
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise CostModelError(f"{where}: cannot read memory {value!r} (write it like 2Gi)")
    return float(match.group(1)) * _TO_GIB[match.group(2)]


def recompute(project: TerraformProject, pricing: Any) -> list[Cost]:
    """Every priced line of every environment found in terraform/environments/*.tfvars."""
    prices = _Prices(pricing)
    root_defaults = {b.name: b.body.get("default") for b in project.blocks(project.root, "variable")}
    module_defaults = {
        kind: {b.name: b.body.get("default") for b in project.blocks(project.module(kind), "variable")}
        for kind in MODULES
    }
    calls = []
    for call in project.module_calls().values():
        source = str(call.body.get("source", "")).rstrip("/")
        kind = source.rsplit("/", 1)[-1]
        if source.startswith("./modules/") and kind in MODULES:
            calls.append((call.name, kind, call.body))
    keys = sum(1 for _ in project.resources(project.root, "google_kms_crypto_key"))
    secrets = sum(1 for _ in project.resources(project.root, "google_secret_manager_secret"))
    environments = sorted(
        path.rsplit("/", 1)[-1].removesuffix(".tfvars")
        for path in project.documents
        if path.startswith(ENVIRONMENTS_DIR + "/") and path.endswith(".tfvars") and path.count("/") == 2
    )
    costs: list[Cost] = []
    for env in environments:
        doc = project.environment(env)
        variables = {**root_defaults, **(doc.data if doc else {})}

        def value(raw: Any, where: str, variables: dict[str, Any] = variables) -> Any:
            if isinstance(raw, str):
                match = _VAR.match(raw)
                if match:
                    resolved = variables.get(match.group(1))
                    if resolved is None:
                        raise CostModelError(f"{where}: var.{match.group(1)} has no value in {ENVIRONMENTS_DIR}")
                    return resolved
                if "${" in raw:
                    raise CostModelError(f"{where}: {raw} cannot be priced; use a literal or var.<name>")
            return raw

        regions = variables.get("regions")
        if not isinstance(regions, dict) or not regions:
            raise CostModelError(f"{ENVIRONMENTS_DIR}/{env}.tfvars: no regions map to price")
        for location in regions.values():
            table = prices.region(str(location))
            for name, kind, args in calls:

                def arg(key: str, name: str = name, kind: str = kind, args: dict[str, Any] = args) -> Any:
                    raw = args[key] if key in args else module_defaults[kind].get(key)
                    return value(raw, f"module.{name}.{key}")

                if kind == "cloud_run":
                    instances = max(
                        _number(arg("min_instances"), f"module.{name}.min_instances"),
                        prices.usage(env, "cloud_run_busy_instances"),
                    )
                    per_second = _number(arg("cpu"), f"module.{name}.cpu") * prices.price(
                        table, "cloud_run", "vcpu_second"
                    ) + _gib(arg("memory"), f"module.{name}.memory") * prices.price(table, "cloud_run", "gib_second")
                    costs.append(Cost(env, f"cloud_run:{name}", location, instances * prices.hours * 3600 * per_second))
                elif kind == "cloud_sql":
                    match = _TIER.match(str(arg("tier")))
                    if not match:
                        raise CostModelError(f"module.{name}.tier: {arg('tier')!r} is not db-custom-<vCPUs>-<MiB>")
                    factor = 2 if str(arg("availability_type")).upper() == "REGIONAL" else 1
                    compute = (
                        int(match.group(1)) * prices.price(table, "cloud_sql", "vcpu_hour")
                        + int(match.group(2)) / 1024 * prices.price(table, "cloud_sql", "gib_hour")
                    ) * prices.hours
                    disk = _number(arg("disk_size_gb"), f"module.{name}.disk_size_gb")
                    storage = disk * prices.price(table, "cloud_sql", "ssd_gb_month")
                    costs.append(Cost(env, f"cloud_sql:{name}", location, (compute + storage) * factor))
                elif kind == "gcs":
                    storage_class = str(arg("storage_class") or "STANDARD").upper()
                    if storage_class != "STANDARD":
                        raise CostModelError(f"module.{name}.storage_class: only STANDARD is priced")
                    gb = prices.usage(env, "documents_gb")
                    costs.append(
                        Cost(
                            env, f"gcs:{name}", location, gb * prices.price(table, "cloud_storage", "standard_gb_month")
                        )
                    )
                elif kind == "pubsub":
                    pubsub = prices.data["global"]
                    throughput = prices.usage(env, "pubsub_gib_month") * 2 / 1024
                    costs.append(
                        Cost(
                            env,
                            f"pubsub:{name}",
                            location,
                            throughput * prices.price(pubsub, "pubsub", "throughput_tib")
                            + prices.usage(env, "pubsub_retained_gib")
                            * prices.price(pubsub, "pubsub", "storage_gib_month"),
                        )
                    )
            if keys:
                versions = prices.usage(env, "kms_versions_per_key")
                costs.append(
                    Cost(
                        env,
                        "kms",
                        location,
                        keys * versions * prices.price(prices.data["global"], "kms", "key_version_month"),
                    )
                )
        if secrets:
            price = prices.price(prices.data["global"], "secret_manager", "secret_version_replica_month")
            costs.append(Cost(env, "secret_manager", "all", secrets * len(regions) * price))
    return costs


def totals(costs: list[Cost]) -> dict[str, float]:
    result: dict[str, float] = {}
    for cost in costs:
        result[cost.environment] = result.get(cost.environment, 0.0) + cost.monthly_usd
    return result


def committed_totals(markdown: str) -> dict[str, float]:
    """The ``## Totals`` table of cost-estimate.md: environment -> USD per month."""
    found: dict[str, float] = {}
    in_totals = False
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            in_totals = stripped.lstrip("#").strip().lower().startswith("total")
            continue
        if in_totals:
            match = _TOTAL_ROW.match(stripped)
            if match and match.group(1).lower() != "environment":
                found[match.group(1)] = float(match.group(2).replace(",", ""))
    return found
