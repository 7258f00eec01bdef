#!/usr/bin/env python3
"""Monthly cost estimate of the Terraform configuration, per environment.

Reads the root module (`terraform/*.tf`), the modules it calls, every environment's variables
(`terraform/environments/<env>.tfvars`) and the versioned price table (`terraform/pricing.yaml`:
public list prices with their date, plus the usage Terraform cannot know), and writes
`terraform/cost-estimate.md`. No cloud account or `terraform init` is needed, so the estimate
can be reviewed in every pull request; `--check` fails when the committed estimate is stale.

    python scripts/estimate_cost.py            # write terraform/cost-estimate.md
    python scripts/estimate_cost.py --check    # exit 1 if it is out of date

The model (also in terraform/pricing.yaml's comments), per region of each environment:
Cloud Run = max(min instances, busy instances) x seconds x (vCPU x price + GiB x price);
Cloud SQL = (vCPU x price + GiB x price) x hours + disk GB x price, twice for REGIONAL;
Cloud Storage = GB stored x price; Pub/Sub = GiB published x 2 (publish + one delivery)
/ 1024 x price per TiB + GiB retained x price; KMS = key versions x price. Once per environment:
Secret Manager = secrets x regions (replicas) x price.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODULE_KINDS = ("cloud_run", "cloud_sql", "gcs", "pubsub")
_VAR_REF = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")
_TIER = re.compile(r"^db-custom-([0-9]+)-([0-9]+)$")
_QUANTITY = re.compile(r"^([0-9.]+)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?$")
_GIB = {
    None: 1 / 2**30,
    "Ki": 1 / 2**20,
    "Mi": 1 / 2**10,
    "Gi": 1.0,
    "Ti": 2**10,
    "K": 1e3 / 2**30,
    "M": 1e6 / 2**30,
    "G": 1e9 / 2**30,
    "T": 1e12 / 2**30,
}


class EstimateError(Exception):
    """The configuration or price table cannot be priced; the message names the file and the fix."""


@dataclass(frozen=True)
class LineItem:
    component: str
    region: str
    quantity: str
    monthly_usd: float


# -- reading HCL (python-hcl2 and checkov's bc-python-hcl2 shape attributes differently) ---------------
def _loads(text: str, where: str) -> dict[str, Any]:
    import hcl2

    try:
        try:
            from hcl2 import SerializationOptions  # python-hcl2 >= 8 keeps quotes unless told

            options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
            data: dict[str, Any] = hcl2.loads(text, serialization_options=options)
        except ImportError:
            data = hcl2.loads(text)
    except Exception as exc:  # the parsers raise lark and ValueError subclasses
        raise EstimateError(f"{where}: not valid HCL ({exc}); run `terraform fmt` to see where") from None
    return data


def _load_hcl(path: Path) -> dict[str, Any]:
    return _loads(path.read_text(encoding="utf-8"), str(path))


@cache
def _attributes_wrapped() -> bool:
    """bc-python-hcl2 (installed with checkov) wraps every attribute value in a one-item list."""
    return _loads("probe = 1\n", "probe").get("probe") == [1]


def _attribute(body: dict[str, Any], key: str, default: Any = None) -> Any:
    """An attribute's value, whichever HCL package parsed it."""
    if key not in body:
        return default
    value = body[key]
    if _attributes_wrapped() and isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _blocks(data: dict[str, Any], block_type: str) -> dict[str, dict[str, Any]]:
    """Labelled blocks (variable "x" {...}, module "x" {...}) as name -> body."""
    found: dict[str, dict[str, Any]] = {}
    for entry in data.get(block_type) or []:
        for name, body in entry.items():
            found[name] = body[0] if isinstance(body, list) else body
    return found


def _resources(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for entry in data.get("resource") or []:
        for rtype, named in entry.items():
            for name, body in named.items():
                found.append((rtype, name, body[0] if isinstance(body, list) else body))
    return found


# -- the configuration -------------------------------------------------------------------------------
@dataclass
class Configuration:
    module_calls: dict[str, dict[str, Any]]  # name -> arguments
    module_defaults: dict[str, dict[str, Any]]  # module kind -> variable defaults
    root_defaults: dict[str, Any]
    root_resources: list[tuple[str, str, dict[str, Any]]]
    environments: dict[str, dict[str, Any]]  # name -> tfvars


def read_configuration(terraform: Path) -> Configuration:
    calls: dict[str, dict[str, Any]] = {}
    defaults: dict[str, Any] = {}
    resources: list[tuple[str, str, dict[str, Any]]] = []
    for tf in sorted(terraform.glob("*.tf")):
        data = _load_hcl(tf)
        calls.update(_blocks(data, "module"))
        for name, body in _blocks(data, "variable").items():
            defaults[name] = _attribute(body, "default")
        resources.extend(_resources(data))
    module_defaults: dict[str, dict[str, Any]] = {}
    for kind in MODULE_KINDS:
        values: dict[str, Any] = {}
        for tf in sorted((terraform / "modules" / kind).glob("*.tf")):
            for name, body in _blocks(_load_hcl(tf), "variable").items():
                values[name] = _attribute(body, "default")
        module_defaults[kind] = values
    environments = {}
    for tfvars in sorted((terraform / "environments").glob("*.tfvars")):
        data = _load_hcl(tfvars)
        environments[tfvars.stem] = {key: _attribute(data, key) for key in data}
    if not environments:
        raise EstimateError(f"{terraform}/environments has no <env>.tfvars files to price")
    return Configuration(calls, module_defaults, defaults, resources, environments)


def _module_kind(arguments: dict[str, Any]) -> str | None:
    source = str(_attribute(arguments, "source", ""))
    kind = source.rstrip("/").rsplit("/", 1)[-1]
    return kind if source.startswith("./modules/") and kind in MODULE_KINDS else None


def _resolve(value: Any, variables: dict[str, Any], where: str) -> Any:
    """A literal, or `var.<name>` looked up in the environment's variables."""
    if isinstance(value, str):
        match = _VAR_REF.match(value)
        if match:
            name = match.group(1)
            if name not in variables or variables[name] is None:
                raise EstimateError(f"{where}: var.{name} has no value; set it in environments/<env>.tfvars")
            return variables[name]
        if "${" in value:
            raise EstimateError(f"{where}: cannot price the expression {value}; use a literal or var.<name>")
    return value


def _argument(config: Configuration, call: str, kind: str, name: str, variables: dict[str, Any]) -> Any:
    arguments = config.module_calls[call]
    value = _attribute(arguments, name) if name in arguments else config.module_defaults[kind].get(name)
    return _resolve(value, variables, f"module.{call}.{name}")


# -- prices ------------------------------------------------------------------------------------------
def region_prices(pricing: dict[str, Any], location: str) -> dict[str, Any]:
    for entry in pricing.get("regions") or []:
        if entry.get("name") == location:
            return dict(entry)
    raise EstimateError(f"terraform/pricing.yaml has no prices for region {location}; add it under regions")


def _gib(quantity: Any, where: str) -> float:
    match = _QUANTITY.match(str(quantity).strip())
    if not match:
        raise EstimateError(f"{where}: cannot read memory {quantity!r}; write it like 2Gi or 512Mi")
    return float(match.group(1)) * _GIB[match.group(2)]


def _tier(tier: Any, where: str) -> tuple[int, float]:
    match = _TIER.match(str(tier))
    if not match:
        raise EstimateError(f"{where}: cannot price tier {tier!r}; use db-custom-<vCPUs>-<memory MiB>")
    return int(match.group(1)), int(match.group(2)) / 1024


# -- the estimate -------------------------------------------------------------------------------------
def estimate_environment(config: Configuration, pricing: dict[str, Any], environment: str) -> list[LineItem]:
    variables = {**config.root_defaults, **config.environments[environment]}
    usage = (pricing.get("usage") or {}).get(environment)
    if not usage:
        raise EstimateError(f"terraform/pricing.yaml: add usage assumptions for environment {environment!r}")
    regions = variables.get("regions") or {}
    if not isinstance(regions, dict) or not regions:
        raise EstimateError(
            f'environments/{environment}.tfvars: set regions (a map such as emea = "europe-west4")'
        )
    hours = float(pricing["hours_per_month"])
    global_prices = pricing["global"]
    items: list[LineItem] = []
    for location in regions.values():
        prices = region_prices(pricing, location)
        for call, arguments in config.module_calls.items():
            kind = _module_kind(arguments)
            if kind is None:
                continue

            def arg(name: str, call: str = call, kind: str = kind) -> Any:
                return _argument(config, call, kind, name, variables)

            if kind == "cloud_run":
                cpu = float(arg("cpu"))
                memory = _gib(arg("memory"), f"module.{call}.memory")
                instances = max(float(arg("min_instances")), float(usage["cloud_run_busy_instances"]))
                per_second = cpu * prices["cloud_run"]["vcpu_second"] + memory * prices["cloud_run"]["gib_second"]
                items.append(
                    LineItem(
                        f"Cloud Run (module.{call})",
                        location,
                        f"{instances:g} instances x {cpu:g} vCPU, {memory:g} GiB",
                        instances * hours * 3600 * per_second,
                    )
                )
            elif kind == "cloud_sql":
                vcpus, memory = _tier(arg("tier"), f"module.{call}.tier")
                disk = float(arg("disk_size_gb"))
                factor = 2 if str(arg("availability_type")).upper() == "REGIONAL" else 1
                sql = prices["cloud_sql"]
                compute = (vcpus * sql["vcpu_hour"] + memory * sql["gib_hour"]) * hours * factor
                items.append(
                    LineItem(
                        f"Cloud SQL (module.{call})",
                        location,
                        f"{vcpus} vCPU, {memory:g} GiB, {disk:g} GB SSD" + (", HA" if factor == 2 else ""),
                        compute + disk * sql["ssd_gb_month"] * factor,
                    )
                )
            elif kind == "gcs":
                storage_class = str(arg("storage_class") or "STANDARD").upper()
                if storage_class != "STANDARD":
                    raise EstimateError(f"module.{call}: only the STANDARD storage class is priced in pricing.yaml")
                gb = float(usage["documents_gb"])
                items.append(
                    LineItem(
                        f"Cloud Storage (module.{call})",
                        location,
                        f"{gb:g} GB Standard",
                        gb * prices["cloud_storage"]["standard_gb_month"],
                    )
                )
            elif kind == "pubsub":
                published = float(usage["pubsub_gib_month"])
                retained = float(usage["pubsub_retained_gib"])
                pubsub = global_prices["pubsub"]
                items.append(
                    LineItem(
                        f"Pub/Sub (module.{call})",
                        location,
                        f"{published:g} GiB published, {retained:g} GiB retained",
                        published * 2 / 1024 * pubsub["throughput_tib"] + retained * pubsub["storage_gib_month"],
                    )
                )
        keys = [name for rtype, name, _ in config.root_resources if rtype == "google_kms_crypto_key"]
        if keys:
            versions = float(usage["kms_versions_per_key"])
            items.append(
                LineItem(
                    "Cloud KMS keys",
                    location,
                    f"{len(keys)} key(s) x {versions:g} versions",
                    len(keys) * versions * global_prices["kms"]["key_version_month"],
                )
            )
    secrets = [name for rtype, name, _ in config.root_resources if rtype == "google_secret_manager_secret"]
    if secrets:
        replicas = len(regions)
        items.append(
            LineItem(
                "Secret Manager",
                "all",
                f"{len(secrets)} secret(s) x {replicas} replicas",
                len(secrets) * replicas * global_prices["secret_manager"]["secret_version_replica_month"],
            )
        )
    return items


def estimate(terraform: Path, pricing: dict[str, Any]) -> dict[str, list[LineItem]]:
    config = read_configuration(terraform)
    order = sorted(config.environments, key=lambda e: (e != "staging", e != "prod", e))
    return {environment: estimate_environment(config, pricing, environment) for environment in order}


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def render(estimates: dict[str, list[LineItem]], pricing: dict[str, Any]) -> str:
    lines = [
        "# Monthly cost estimate",
        "",
        "Generated by `python scripts/estimate_cost.py` from `terraform/` and `terraform/pricing.yaml`.",
        f"Prices: public list prices as of {pricing['as_of']}, in {pricing['currency']}, "
        f"{pricing['hours_per_month']} hours per month.",
        "Do not edit this file by hand: change the configuration, the prices or the usage assumptions",
        "and regenerate it. CI and the lab grader recompute it.",
        "",
        "Not included: free tiers, committed-use and sustained-use discounts, network egress, Cloud",
        "Logging and Monitoring, VPC flow logs, Cloud SQL backups and KMS operations.",
        "",
        "## Totals",
        "",
        f"| environment | {pricing['currency']} per month |",
        "| --- | ---: |",
    ]
    for environment, items in estimates.items():
        lines.append(f"| {environment} | {_usd(sum(i.monthly_usd for i in items))} |")
    for environment, items in estimates.items():
        lines += [
            "",
            f"## {environment}",
            "",
            f"| component | region | quantity | {pricing['currency']} per month |",
            "| --- | --- | --- | ---: |",
        ]
        for item in items:
            lines.append(f"| {item.component} | {item.region} | {item.quantity} | {_usd(item.monthly_usd)} |")
        lines.append(f"| **total** | | | **{_usd(sum(i.monthly_usd for i in items))}** |")
    return "\n".join(lines) + "\n"


def load_pricing(path: Path) -> dict[str, Any]:
    try:
        pricing = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EstimateError(f"{path}: cannot read the price table ({exc})") from None
    required = ("as_of", "currency", "hours_per_month", "regions", "global", "usage")
    missing = [k for k in required if k not in (pricing or {})]
    if missing:
        raise EstimateError(f"{path}: missing {', '.join(missing)}")
    return dict(pricing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terraform", type=Path, default=ROOT / "terraform")
    parser.add_argument("--pricing", type=Path, default=None, help="default: <terraform>/pricing.yaml")
    parser.add_argument("--output", type=Path, default=None, help="default: <terraform>/cost-estimate.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed estimate is out of date")
    args = parser.parse_args(argv)
    pricing_path = args.pricing or args.terraform / "pricing.yaml"
    output = args.output or args.terraform / "cost-estimate.md"
    try:
        pricing = load_pricing(pricing_path)
        text = render(estimate(args.terraform, pricing), pricing)
    except EstimateError as exc:
        print(f"estimate_cost: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else ""
        if current != text:
            print(f"{output} is out of date: run python scripts/estimate_cost.py and commit it", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
