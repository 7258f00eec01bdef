"""Unit tests of the lab08 grader's parts: the switch procedure's commands and the rollout verdict wording."""

from __future__ import annotations

import copy

import pytest

from graders.lab08 import bluegreen, rollout_cases, switch_procedure
from graders.lab08.k8s_manifests import Manifest

SWITCH = "k8s/blue-green/SWITCH.md"


def _first_switch_words(text: str, path: str = SWITCH) -> tuple[str, ...] | None:
    found = switch_procedure.first_switch(path, text)
    return found.words if found else None


@pytest.mark.parametrize(
    "text",
    [
        '```bash\nkubectl patch service copilot-api -p \'{"spec":{"selector":{"color":"green"}}}\'\n```\n',
        "```bash\nkubectl -n copilot-rvb01 patch svc copilot-api --type merge -p '{}'\n```\n",
        "```bash\nkubectl --context prod --namespace=ns \\\n  patch service/copilot-api -p '{}'\n```\n",
        "```sh\nkubectl rollout status deploy/x && kubectl -n ns patch svc copilot-api -p '{}'\n```\n",
        "Switch with `kubectl -n ns set selector svc copilot-api 'app=copilot,color=green'`.\n",
        "```\nkubectl apply -f k8s/blue-green/service.yaml\n```\n",
        '```\nNS=copilot kubectl -n "$NS" patch services copilot-api -p "$(cat patch.json)"\n```\n',
    ],
    ids=["plain", "namespace-first", "continued", "after-and", "inline-set-selector", "apply-service", "env-prefix"],
)
def test_a_service_switch_is_found_whatever_its_form(text: str) -> None:
    words = _first_switch_words(text)
    assert words is not None and words[0] == "kubectl"


@pytest.mark.parametrize(
    "text",
    [
        "```\nkubectl get service copilot-api -o yaml\n```\n",
        "```\nkubectl -n ns patch deployment copilot-api-green -p '{}'\n```\n",
        "```\nkubectl apply -f k8s/blue-green/deployment-green.yaml\n```\n",
        "Then patch the service so that it selects green.\n",
    ],
    ids=["read-only", "patches-a-deployment", "applies-a-deployment", "prose-only"],
)
def test_commands_that_do_not_switch_the_service_are_not_a_switch(text: str) -> None:
    assert _first_switch_words(text) is None


def test_a_script_is_read_as_bash_and_positions_keep_document_order() -> None:
    script = "#!/bin/bash\nset -euo pipefail\npython scripts/rollout_status.py --watch 'kubectl get deploy x -o json'\n"
    script += "kubectl -n ns patch svc copilot-api -p '{}'  # switch\n"
    found = switch_procedure.first_switch("k8s/blue-green/switch.sh", script)
    assert found is not None and found.position == (3, 0)


def test_commands_are_split_at_control_operators_and_continuations() -> None:
    found = switch_procedure.commands("s.sh", "NS=x kubectl -n x patch svc y \\\n -p '{}' && echo done | tee log")
    assert [c.words for c in found] == [
        ("kubectl", "-n", "x", "patch", "svc", "y", "-p", "{}"),
        ("echo", "done"),
        ("tee", "log"),
    ]


@pytest.mark.parametrize(
    ("stdout", "stderr", "verdict"),
    [
        ('deployment "copilot-api" successfully rolled out\n', "", "complete"),
        ("Waiting for deployment spec update to be observed...\n", "", "progressing"),
        (
            'Waiting for deployment "a" rollout to finish: 1 out of 3 new replicas have been updated...\n',
            "",
            "progressing",
        ),
        ("", 'error: deployment "copilot-api" exceeded its progress deadline\n', "failed"),
        ("", "failed: deadline exceeded\n", "failed"),
        ("", 'Traceback (most recent call last):\n    complete = judge(x)\nKeyError: "status"\n', None),
    ],
    ids=[
        "kubectl-complete",
        "kubectl-not-observed",
        "kubectl-waiting",
        "kubectl-deadline",
        "word-on-stderr",
        "traceback",
    ],
)
def test_kubectls_own_wording_is_a_verdict(stdout: str, stderr: str, verdict: str | None) -> None:
    assert rollout_cases.verdict_of(stdout, stderr) == verdict


def test_the_deadline_case_needs_kubectls_order() -> None:
    """R1 before R2: the new fixture is progressing by kubectl's order and failed in the other order."""
    case = next(c for c in rollout_cases.cases() if c.id == "deadline-exceeded-fix-not-observed")
    assert (case.verdict, case.exit_code) == ("progressing", 1)


def _slot(colour: str, extra: dict) -> Manifest:
    labels = {"app": "copilot", "color": colour}
    spec = {
        "replicas": 3,
        "selector": {"matchLabels": dict(labels)},
        "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {"containers": [{"name": "api", "image": f"r/api:{'1.0.0' if colour == 'blue' else '1.1.0'}"}]},
        },
    }
    spec["template"]["spec"].update(copy.deepcopy(extra))
    return Manifest(f"k8s/blue-green/deployment-{colour}.yaml", 0, {"kind": "Deployment", "spec": spec})


def _spread(colour: str) -> dict:
    return {
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "labelSelector": {"matchLabels": {"color": colour}}}
        ],
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "topologyKey": "host",
                        "labelSelector": {"matchExpressions": [{"key": "color", "operator": "In", "values": [colour]}]},
                    }
                ]
            }
        },
    }


def test_selectors_over_the_slots_own_pods_are_colour_differences() -> None:
    pair = bluegreen.Pair("color", _slot("blue", _spread("blue")), _slot("green", _spread("green")))
    assert bluegreen.spec_difference(pair) is None


def test_a_real_difference_beside_the_colour_is_still_found() -> None:
    green = _spread("green")
    green["topologySpreadConstraints"][0]["maxSkew"] = 2
    pair = bluegreen.Pair("color", _slot("blue", _spread("blue")), _slot("green", green))
    assert bluegreen.spec_difference(pair) == "spec.template.spec.topologySpreadConstraints[0].maxSkew"


@pytest.mark.parametrize(
    ("command", "colours"),
    [
        ("kubectl patch svc api -p '{\"spec\":{\"selector\":{\"color\":\"green\"}}}'", {"green"}),
        ("kubectl -n ns set selector service api app=api,color=blue", {"blue"}),
        ("kubectl apply -f k8s/blue-green/service.yaml", set()),
    ],
)
def test_the_colour_a_switch_selects(command: str, colours: set[str]) -> None:
    switch = switch_procedure.first_switch("switch.sh", command)
    assert switch is not None
    call = switch_procedure.kubectl_call(switch)
    assert call is not None and switch_procedure.selected_colours(call, ("blue", "green")) == colours


@pytest.mark.parametrize(
    ("command", "retires"),
    [
        ("kubectl scale deployment api-blue --replicas=0", True),
        ("kubectl -n ns scale deploy/api-blue --replicas 0", True),
        ("kubectl delete deployment api-blue", True),
        ("kubectl scale deployment api-blue --replicas=3", False),
        ("kubectl delete pod api-blue-abc", False),
    ],
)
def test_retiring_the_old_colour_is_recognised(command: str, retires: bool) -> None:
    assert (switch_procedure.first_retirement("switch.sh", command) is not None) is retires
