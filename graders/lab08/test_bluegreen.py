"""Lab assignment, part 1: the blue/green deployment in k8s/blue-green/."""

from __future__ import annotations

import re

from graders.lab08 import sections, switch_procedure
from graders.lab08.bluegreen import COLOURS, Pair, find_pair, images, missing_readiness, spec_difference
from graders.lab08.k8s_manifests import BLUE_GREEN_DIR, Manifest, ManifestSet, pod_labels
from graders.lab08.selectors import label_selector_matches, service_selects
from graders.lab08.wiring import pdb_problems, port_exists
from graders.sdk import Checklist, Submission, check, fail


def _pair(manifest_set: ManifestSet) -> Pair:
    deployments = manifest_set.of_kind("Deployment", under=BLUE_GREEN_DIR)
    if not deployments:
        fail(
            f"no Deployments in {BLUE_GREEN_DIR}/: add deployment-blue.yaml and deployment-green.yaml (identical but "
            "for a colour label and the image tag)",
            BLUE_GREEN_DIR,
        )
    pair, reason = find_pair(deployments)
    if pair is None:
        fail(f"{BLUE_GREEN_DIR}/: {reason}", BLUE_GREEN_DIR)
        raise AssertionError  # unreachable: fail() raises
    return pair


def live_colour(service: Manifest, pair: Pair) -> list[str]:
    """The colours whose pods the Service selects."""
    return [c for c in COLOURS if service_selects(service.spec.get("selector"), pod_labels(pair.slot(c)))]


@check(
    8,
    "Blue and green Deployments differ only in colour and image tag, with readiness probes",
    section=sections.LAB,
    assignment=True,
)
def test_bluegreen_pod_specs(manifest_set: ManifestSet, checklist: Checklist) -> None:
    pair = _pair(manifest_set)
    difference = spec_difference(pair)
    checklist.require(
        difference is None,
        f"{pair.blue.name} and {pair.green.name} differ at {difference}: the slots must be identical except for the "
        f"{pair.colour_key!r} label and the image tag, or a switch changes more than the release",
        pair.green.where,
    )
    for colour in COLOURS:
        deployment = pair.slot(colour)
        other = pair.slot(next(c for c in COLOURS if c != colour))
        selector = deployment.spec.get("selector")
        checklist.require(
            label_selector_matches(selector, pod_labels(deployment))
            and not label_selector_matches(selector, pod_labels(other)),
            f"{deployment.label}: spec.selector must select this slot's pods only: put {pair.colour_key}: {colour} "
            "in spec.selector.matchLabels (or a matchExpressions term on it), or the two Deployments adopt each "
            "other's pods",
            deployment.where,
        )
        missing = missing_readiness(deployment)
        checklist.require(
            not missing,
            f"{deployment.label}: container(s) {', '.join(missing)} have no readinessProbe; without one a pod gets "
            "traffic before it can answer, and the rollout check cannot tell ready from started",
            deployment.where,
        )
        for container, _repo, tag in images(deployment):
            checklist.require(
                tag not in (None, "latest"),
                f"{deployment.label}: container {container} uses {'no tag' if tag is None else 'latest'}; pin a "
                "release tag (e.g. 1.1.0) so blue and green are known versions",
                deployment.where,
            )
    blue_images = {(c, r, t) for c, r, t in images(pair.blue)}
    green_images = {(c, r, t) for c, r, t in images(pair.green)}
    checklist.require(
        {(c, r) for c, r, _ in blue_images} == {(c, r) for c, r, _ in green_images} and blue_images != green_images,
        f"{pair.blue.name} and {pair.green.name} must run the same image repository with different tags "
        f"(blue {sorted(t or '' for *_, t in blue_images)}, green {sorted(t or '' for *_, t in green_images)})",
        pair.green.where,
    )


@check(6, "The Service selects exactly one colour's pods", section=sections.LAB, assignment=True)
def test_bluegreen_service_selector(manifest_set: ManifestSet, checklist: Checklist) -> None:
    pair = _pair(manifest_set)
    services = manifest_set.of_kind("Service", under=BLUE_GREEN_DIR)
    if len(services) != 1:
        fail(
            f"{BLUE_GREEN_DIR}/ should hold exactly one Service (found {len(services)}): the one whose selector "
            "decides which colour is live",
            BLUE_GREEN_DIR,
        )
    service = services[0]
    selector = service.spec.get("selector") or {}
    live = live_colour(service, pair)
    checklist.require(
        selector.get(pair.colour_key) in COLOURS,
        f"{service.label}: add {pair.colour_key}: blue (or green) to spec.selector; without it the Service sends "
        "traffic to both colours at once",
        service.where,
    )
    checklist.require(
        len(live) == 1,
        f"{service.label}: its selector {selector} matches the pods of "
        f"{' and '.join(live) if live else 'neither colour'}; it must match exactly one colour's pod labels",
        service.where,
    )
    if len(live) == 1:
        target = pair.slot(live[0])
        for port in service.spec.get("ports") or []:
            target_port = (port or {}).get("targetPort", (port or {}).get("port"))
            checklist.require(
                port_exists(target_port, target),
                f"{service.label}: targetPort {target_port!r} is not a containerPort of {target.name}",
                service.where,
            )


@check(4, "A PodDisruptionBudget covers the live colour", section=sections.LAB, assignment=True)
def test_bluegreen_pdb(manifest_set: ManifestSet, checklist: Checklist) -> None:
    pair = _pair(manifest_set)
    services = manifest_set.of_kind("Service", under=BLUE_GREEN_DIR)
    live = live_colour(services[0], pair) if services else []
    if len(live) != 1:
        fail("the live colour is unknown (the Service must select exactly one colour), so no PDB can cover it")
    target = pair.slot(live[0])
    pdbs = manifest_set.of_kind("PodDisruptionBudget", under=BLUE_GREEN_DIR)
    covering = next((p for p in pdbs if not pdb_problems(p, target, "")), None)
    for problem in pdb_problems(covering or (pdbs[0] if pdbs else None), target, f"the live colour ({live[0]})"):
        checklist.require(False, problem, (pdbs[0] if pdbs else target).where)


SWITCH_SUFFIXES = (".md", ".sh", ".txt", ".rst")
ROLLOUT_CHECK = re.compile(r"rollout_status\.py|rollout\s+status", re.IGNORECASE)
ROLLBACK = re.compile(r"roll\s*-?\s*back|switch\s+back", re.IGNORECASE)


def _position(text: str, offset: int, first_line: int) -> tuple[int, int]:
    before = text[:offset]
    return first_line + before.count("\n"), offset - (before.rfind("\n") + 1)


@check(
    3, "A switch procedure: check the rollout, switch the selector, roll back", section=sections.LAB, assignment=True
)
def test_bluegreen_switch_procedure(submission: Submission, manifest_set: ManifestSet, checklist: Checklist) -> None:
    documents = [p for p in submission.walk(BLUE_GREEN_DIR) if p.endswith(SWITCH_SUFFIXES)]
    if not documents:
        fail(
            f"no switch procedure in {BLUE_GREEN_DIR}/: add SWITCH.md (or switch.sh) with the steps to check the new "
            "colour's rollout, switch the Service selector and roll back",
            BLUE_GREEN_DIR,
        )
    where = documents[0]
    check_at: tuple[int, int] | None = None
    switch_at: tuple[int, int] | None = None
    rollback = False
    retire_at: tuple[int, int] | None = None
    switched_to: set[str] = set()
    first_line = 0
    for path in documents:
        text = submission.read_text(path)
        found = ROLLOUT_CHECK.search(text)
        if found and check_at is None:
            check_at = _position(text, found.start(), first_line)
        switch = switch_procedure.first_switch(path, text)
        if switch and switch_at is None:
            switch_at = (first_line + switch.position[0], switch.position[1])
            call = switch_procedure.kubectl_call(switch)
            switched_to = switch_procedure.selected_colours(call, COLOURS) if call else set()
        retire = switch_procedure.first_retirement(path, text)
        if retire and retire_at is None:
            retire_at = (first_line + retire.position[0], retire.position[1])
        rollback = rollback or bool(ROLLBACK.search(text))
        first_line += text.count("\n") + 1
    checklist.require(
        check_at is not None,
        f"{where}: check the new colour's rollout (scripts/rollout_status.py or kubectl rollout status) before it "
        "gets traffic",
        where,
    )
    checklist.require(
        switch_at is not None,
        f"{where}: give the command that switches the Service selector (e.g. kubectl patch service NAME -p ..., "
        "kubectl set selector service NAME ..., or kubectl apply -f service.yaml), in a code block",
        where,
    )
    checklist.require(
        check_at is None or switch_at is None or check_at < switch_at,
        f"{where}: the rollout check comes after the switch; verify the new colour first, then move traffic",
        where,
    )
    live = _live_colour(manifest_set)
    checklist.require(
        not (live and switched_to == {live}),
        f"{where}: the switch command selects {live}, the colour service.yaml already sends traffic to; switch "
        "the selector to the idle colour that was just deployed and checked",
        where,
    )
    checklist.require(
        retire_at is None or (switch_at is not None and check_at is not None and max(check_at, switch_at) < retire_at),
        f"{where}: the old colour is scaled to zero or deleted before the new one is checked and switched to; "
        "retire it last (it is the rollback until the new colour has proven itself)",
        where,
    )
    checklist.require(rollback, f"{where}: describe how to roll back (switch the selector back)", where)


def _live_colour(manifest_set: ManifestSet) -> str | None:
    services = manifest_set.of_kind("Service", under=BLUE_GREEN_DIR)
    selector = (services[0].spec.get("selector") or {}) if len(services) == 1 else {}
    named = {str(v).lower() for v in selector.values()} & set(COLOURS) if isinstance(selector, dict) else set()
    return next(iter(named)) if len(named) == 1 else None
