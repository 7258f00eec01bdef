"""Blue/green invariants, as pure functions over the Deployments of k8s/blue-green/.

Two Deployments are a blue/green pair when their pod templates are identical except for one label
(the colour, valued blue and green) and the image tags. The Service sends traffic to exactly one
colour; the PodDisruptionBudget protects that live colour.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from graders.lab08.k8s_manifests import Manifest, containers, pod_labels

COLOURS = ("blue", "green")


@dataclass(frozen=True)
class Pair:
    colour_key: str
    blue: Manifest
    green: Manifest

    def slot(self, colour: str) -> Manifest:
        return self.blue if colour == "blue" else self.green


def colour_of(deployment: Manifest) -> tuple[str, str] | None:
    """(label key, colour) of a Deployment's pods, found by value: the label whose value is blue or green."""
    for key, value in sorted(pod_labels(deployment).items()):
        if value in COLOURS:
            return key, value
    return None


def find_pair(deployments: list[Manifest]) -> tuple[Pair | None, str]:
    """The blue/green pair, or None with the reason."""
    by_colour: dict[str, list[tuple[str, Manifest]]] = {c: [] for c in COLOURS}
    for deployment in deployments:
        found = colour_of(deployment)
        if found:
            by_colour[found[1]].append((found[0], deployment))
    for colour in COLOURS:
        if len(by_colour[colour]) != 1:
            return None, (
                f"expected exactly one Deployment whose pod template is labelled {colour} (e.g. color: {colour}); "
                f"found {len(by_colour[colour])}"
            )
    (blue_key, blue), (green_key, green) = by_colour["blue"][0], by_colour["green"][0]
    if blue_key != green_key:
        return None, f"blue uses the label {blue_key!r} for its colour but green uses {green_key!r}: use one key"
    return Pair(blue_key, blue, green), ""


def split_image(image: str) -> tuple[str, str | None]:
    """(repository, tag or digest); tag None when the image is untagged (which means latest)."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return repo, "@" + digest
    name, sep, tag = image.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return image, None


def _without_colour(value: Any, colour: str) -> Any:
    """``value`` with the slot's colour word blanked in every key and string.

    The colour is not only in the pod labels and ``spec.selector``: a topology-spread constraint or an
    anti-affinity term over the slot's own pods, an env value naming the slot, a ``copilot-api-blue``
    instance label all carry it. Two slots that differ only there differ only in colour.
    """
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(colour)}(?![A-Za-z0-9])")
    if isinstance(value, dict):
        return {_without_colour(k, colour): _without_colour(v, colour) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_colour(v, colour) for v in value]
    if isinstance(value, str):
        return word.sub("<colour>", value)
    return value


def _normalised(deployment: Manifest, colour_key: str) -> dict[str, Any]:
    """The parts that must match between the colours, with colour and image tags blanked out."""
    spec = copy.deepcopy(deployment.spec)
    spec.pop("replicas", None)  # the idle colour may be scaled down
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(colour_key, None)
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    selector.pop(colour_key, None)
    for container in (template.get("spec") or {}).get("containers") or []:
        if isinstance(container, dict) and isinstance(container.get("image"), str):
            container["image"] = split_image(container["image"])[0]
    colour = str(pod_labels(deployment).get(colour_key, ""))
    return _without_colour(spec, colour) if colour in COLOURS else spec


def first_difference(a: Any, b: Any, path: str = "spec") -> str | None:
    """The first key path where two structures differ (for feedback), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}.{key}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else path


def spec_difference(pair: Pair) -> str | None:
    return first_difference(_normalised(pair.blue, pair.colour_key), _normalised(pair.green, pair.colour_key))


def images(deployment: Manifest) -> list[tuple[str, str, str | None]]:
    """(container, repository, tag) of every container."""
    found = []
    for container in containers(deployment):
        repo, tag = split_image(str(container.get("image", "")))
        found.append((str(container.get("name", "?")), repo, tag))
    return found


def missing_readiness(deployment: Manifest) -> list[str]:
    return [str(c.get("name", "?")) for c in containers(deployment) if not isinstance(c.get("readinessProbe"), dict)]
