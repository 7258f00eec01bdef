"""scripts/rollout_status.py follows kubectl rollout status (DeploymentStatusViewer.Status) rule by rule."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.lab("lab08")  # rollout_status.py is lab08's deliverable

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rollout_status.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rollout_status", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["rollout_status"] = module
    spec.loader.exec_module(module)
    return module


rs = _load()


def deployment(
    *,
    generation: int = 2,
    observed: int = 2,
    desired: int | None = 3,
    status: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {} if desired is None else {"replicas": desired}
    body = dict(status or {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3})
    body["observedGeneration"] = observed
    if reason:
        body["conditions"] = [{"type": "Progressing", "status": "False", "reason": reason, "message": "timed out"}]
    return {
        "kind": "Deployment",
        "metadata": {"name": "copilot-api", "generation": generation},
        "spec": spec,
        "status": body,
    }


@pytest.mark.parametrize(
    ("doc", "state", "words"),
    [
        (deployment(), "complete", "successfully rolled out"),
        (deployment(desired=0, status={}), "complete", "successfully rolled out"),
        (deployment(desired=None), "complete", "successfully rolled out"),
        (deployment(generation=3, observed=2), "progressing", "spec update to be observed"),
        (deployment(generation=3, observed=2, reason="ProgressDeadlineExceeded"), "progressing", "to be observed"),
        (deployment(reason="ProgressDeadlineExceeded"), "failed", "exceeded its progress deadline"),
        (
            deployment(status={"replicas": 3, "updatedReplicas": 1, "availableReplicas": 3}),
            "progressing",
            "1 out of 3 new",
        ),
        (
            deployment(status={"replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
            "progressing",
            "1 old replicas",
        ),
        (
            deployment(status={"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
            "progressing",
            "2 of 3 updated",
        ),
    ],
    ids=[
        "complete",
        "scaled-to-zero",
        "no-spec-replicas",
        "old-generation",
        "deadline-before-observed",
        "deadline-exceeded",
        "partially-updated",
        "old-pending",
        "unavailable",
    ],
)
def test_judge_follows_kubectl(doc: dict[str, Any], state: str, words: str) -> None:
    """The verdict follows kubectl's rules; ``words`` are kubectl's reason, shown when the verdict differs
    (the reason's wording is yours: the lab asks for the verdict and the exit code)."""
    verdict = rs.judge_deployment(doc)
    assert verdict.state == state, f"kubectl says {state} ({words}); got {verdict.state}: {verdict.reason}"


def test_list_takes_the_worst_verdict() -> None:
    items = [deployment(), deployment(reason="ProgressDeadlineExceeded")]
    verdicts = rs.judge_text(json.dumps({"kind": "List", "items": items}))
    assert [v.state for v in verdicts] == ["complete", "failed"]
    assert rs.worst(verdicts).exit_code == 2


@pytest.mark.parametrize(
    "text",
    [
        '{"kind": "Deployment"',
        "[]",
        '{"kind": "Service"}',
        '{"kind": "List", "items": []}',
        json.dumps(deployment(status={"replicas": "3"})),
    ],
)
def test_unjudgeable_input_is_an_input_error(text: str) -> None:
    with pytest.raises(rs.InputError):
        rs.judge_text(text)


def test_watch_polls_until_complete_and_prints_each_change() -> None:
    states = iter(
        [
            deployment(generation=3, observed=2),
            deployment(generation=3, observed=2),
            deployment(generation=3, observed=3),
        ]
    )
    calls: list[float] = []
    out = io.StringIO()
    module = _load()
    module.poll = lambda command, timeout: json.dumps(next(states))
    code = module.watch(["kubectl"], interval=1, timeout=60, out=out, clock=lambda: 0.0, sleep=calls.append)
    assert code == 0 and calls == [1, 1]
    last = out.getvalue().strip().splitlines()[-1]
    assert last.startswith("complete") or "successfully rolled out" in last, out.getvalue()


def test_watch_gives_up_after_the_timeout() -> None:
    now = [0.0]
    module = _load()
    module.poll = lambda command, timeout: json.dumps(deployment(generation=3, observed=2))
    out = io.StringIO()
    code = module.watch(["kubectl"], 5, 12, out, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert code == 1 and out.getvalue().strip(), "give up with exit 1 and say so"


def test_command_line_exit_codes(tmp_path: Path) -> None:
    done = tmp_path / "done.json"
    done.write_text(json.dumps(deployment()))
    failed = json.dumps(deployment(reason="ProgressDeadlineExceeded"))

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=30
        )

    assert cli(str(done)).returncode == 0
    assert cli(stdin=failed).returncode == 2
    broken = cli(stdin="{")
    assert broken.returncode == 2 and broken.stderr.strip() and "Traceback" not in broken.stderr  # a message
    watched = cli("--watch", f'{sys.executable} -c "print(open({str(done)!r}).read())"', "--interval", "0")
    assert watched.returncode == 0
    assert watched.stdout.startswith("complete") or "successfully rolled out" in watched.stdout, watched.stdout
    assert cli("--watch", "false").returncode == 2
