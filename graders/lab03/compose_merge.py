"""Merging Compose files by the rules Docker Compose documents, for machines without Docker.

Sources: the Compose Specification's "Merge and override" (compose-spec ``13-merge.md``) and Docker's
"Merge Compose files" page, as implemented by compose-go (``override/merge.go``, ``uncity.go``):

* mappings are merged key by key, the later file winning on scalars; an explicit ``null`` keeps the
  earlier value (only ``!reset`` removes one);
* ``command``, ``entrypoint`` and ``healthcheck.test`` are replaced, never appended;
* ``environment``, ``labels``, ``annotations``, ``sysctls``, ``build.args``, ``deploy.labels`` are
  merged by name (list and mapping syntax alike), ``depends_on`` and ``networks`` as mappings;
* ``ports``, ``volumes``, ``secrets``, ``configs``, ``devices`` and ``env_file`` are appended, an
  entry replacing an earlier one with the same unique key (port binding, mount target, path);
  ``expose``, ``dns``, ``dns_search``, ``tmpfs``, ``cap_add``, ``cap_drop``... are concatenated
  without duplicates; any other sequence is appended;
* ``logging`` options merge only when both files use the same driver (or one names none);
* ``!reset`` removes the earlier value, ``!override`` replaces it whole.

Merges apply to the expanded ("canonical") form of each file, as the Compose documentation says,
so ``"8080:8080"`` and ``{target: 8080, published: "8080"}`` are the same port.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from graders.lab03.compose_yaml import OVERRIDE_TAG, RESET_TAG, Tagged

Path = tuple[str, ...]

# -- canonical (long) forms ------------------------------------------------------------------------


def _scalar_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_mapping(value: Any) -> dict[str, Any]:
    """``[K=V, K2]`` or ``{K: V}`` -> ``{K: "V", K2: None}`` (environment, labels, args ...)."""
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, Tagged) else _scalar_text(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            text = str(item)
            key, sep, val = text.partition("=")
            out[key] = val if sep else None
        return out
    if isinstance(value, str):
        return _as_mapping([value])
    return {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def parse_port(entry: Any) -> list[dict[str, Any]]:
    """Short port syntax ``[[IP:]HOST:]CONTAINER[/PROTO]`` (ranges expanded) to long form."""
    if isinstance(entry, dict):
        long_form = dict(entry)
        if long_form.get("published") is not None:
            long_form["published"] = str(long_form["published"])
        long_form.setdefault("protocol", "tcp")
        long_form.setdefault("mode", "ingress")
        return [long_form]
    text = str(entry)
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
    host_ip: str | None = None
    if text.startswith("["):  # [::1]:6001:6001
        close = text.index("]")
        host_ip, text = text[1:close], text[close + 2 :]
    parts = text.split(":")
    if len(parts) == 3:
        host_ip, published, target = parts
    elif len(parts) == 2:
        published, target = parts
    else:
        published, target = "", parts[0]
    targets = _port_range(target)
    publishes = _port_range(published) if published else [None] * len(targets)
    if len(publishes) != len(targets):
        publishes = [published] * len(targets) if published else [None] * len(targets)
    ports = []
    for tgt, pub in zip(targets, publishes, strict=True):
        port: dict[str, Any] = {"target": int(tgt) if str(tgt).isdigit() else tgt, "protocol": protocol}
        port["mode"] = "ingress"
        if pub is not None:
            port["published"] = str(pub)
        if host_ip:
            port["host_ip"] = host_ip
        ports.append(port)
    return ports


def _port_range(text: str) -> list[str]:
    start, sep, end = text.partition("-")
    if sep and start.isdigit() and end.isdigit() and int(end) >= int(start):
        return [str(p) for p in range(int(start), int(end) + 1)]
    return [text]


def parse_volume(entry: Any) -> dict[str, Any]:
    """Short volume syntax ``[SOURCE:]TARGET[:MODE]`` to long form (bind when SOURCE is a path)."""
    if isinstance(entry, dict):
        return dict(entry)
    parts = str(entry).split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) > 2 else ""
    is_path = source.startswith((".", "/", "~")) or "/" in source
    volume: dict[str, Any] = {"type": "bind" if is_path else "volume", "source": source, "target": target}
    flags = set(mode.split(",")) if mode else set()
    if "ro" in flags or "readonly" in flags:
        volume["read_only"] = True
    if is_path:
        volume["bind"] = {"create_host_path": True}
    return volume


def _file_reference(entry: Any) -> dict[str, Any]:
    return dict(entry) if isinstance(entry, dict) else {"source": str(entry)}


def _env_file(entry: Any) -> dict[str, Any]:
    if isinstance(entry, dict):
        out = dict(entry)
        out.setdefault("required", True)
        return out
    return {"path": str(entry), "required": True}


def _depends_on(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {str(name): {"condition": "service_started", "required": True} for name in value}
    if isinstance(value, dict):
        out = {}
        for name, spec in value.items():
            merged = {"condition": "service_started", "required": True}
            if isinstance(spec, dict):
                merged.update(spec)
            out[str(name)] = merged
        return out
    return {}


def _healthcheck(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = dict(value)
    test = out.get("test")
    if isinstance(test, str):
        out["test"] = ["CMD-SHELL", test]
    if out.get("disable") is True:
        out["test"] = ["NONE"]
    return out


_SERVICE_CANONICAL: dict[str, Callable[[Any], Any]] = {
    "ports": lambda v: [p for e in _as_list(v) for p in parse_port(e)],
    "volumes": lambda v: [parse_volume(e) for e in _as_list(v)],
    "secrets": lambda v: [_file_reference(e) for e in _as_list(v)],
    "configs": lambda v: [_file_reference(e) for e in _as_list(v)],
    "env_file": lambda v: [_env_file(e) for e in _as_list(v)],
    "environment": _as_mapping,
    "labels": _as_mapping,
    "annotations": _as_mapping,
    "sysctls": _as_mapping,
    "depends_on": _depends_on,
    "networks": lambda v: {str(n): None for n in v} if isinstance(v, list) else v,
    "build": lambda v: {"context": v} if isinstance(v, str) else v,
    "healthcheck": _healthcheck,
    "expose": lambda v: [str(e) for e in _as_list(v)],
    "dns": _as_list,
    "dns_search": _as_list,
    "tmpfs": _as_list,
    "extra_hosts": lambda v: [f"{k}={x}" for k, x in v.items()] if isinstance(v, dict) else _as_list(v),
}


def canonical_service(service: Any) -> Any:
    """A service definition in long form; values Compose would reject are left for the schema check."""
    if not isinstance(service, dict):
        return service
    out: dict[str, Any] = {}
    for key, value in service.items():
        if isinstance(value, Tagged):
            out[key] = Tagged(value.tag, _canonical_value(key, value.value))
        else:
            out[key] = _canonical_value(key, value)
    build = out.get("build")
    if isinstance(build, dict) and "args" in build:
        build["args"] = _as_mapping(build["args"])
    deploy = out.get("deploy")
    if isinstance(deploy, dict) and "labels" in deploy:
        deploy["labels"] = _as_mapping(deploy["labels"])
    return out


def _canonical_value(key: str, value: Any) -> Any:
    converter = _SERVICE_CANONICAL.get(key)
    if converter is None or value is None:
        return value
    try:
        return converter(value)
    except (TypeError, ValueError, AttributeError, IndexError):
        return value  # malformed: the schema check reports it with the file and key


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    services = out.get("services")
    if isinstance(services, dict):
        out["services"] = {name: canonical_service(svc) for name, svc in services.items()}
    return out


# -- unique keys of sequences -------------------------------------------------------------------------


def _port_key(port: Any) -> str:
    if not isinstance(port, dict):
        return str(port)
    return (
        f"{port.get('host_ip') or '0.0.0.0'}:{port.get('published') or ''}:{port.get('target')}/"
        f"{port.get('protocol') or 'tcp'}"
    )


def _target_key(entry: Any) -> str:
    return str(entry.get("target")) if isinstance(entry, dict) else str(entry)


def _mount_key(default_dir: str) -> Callable[[Any], str]:
    def key(entry: Any) -> str:
        if isinstance(entry, dict):
            if entry.get("target"):
                return str(entry["target"])
            return f"{default_dir}/{entry.get('source')}"
        return f"{default_dir}/{entry}"

    return key


def _path_key(entry: Any) -> str:
    return str(entry.get("path")) if isinstance(entry, dict) else str(entry)


def _device_key(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("target"))
    parts = str(entry).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


UNIQUE_SEQUENCES: dict[str, Callable[[Any], str]] = {
    "ports": _port_key,
    "volumes": _target_key,
    "secrets": _mount_key("/run/secrets"),
    "configs": _mount_key(""),
    "devices": _device_key,
    "env_file": _path_key,
    "expose": str,
    "dns": str,
    "dns_search": str,
    "dns_opt": str,
    "tmpfs": str,
    "cap_add": str,
    "cap_drop": str,
    "profiles": str,
    "links": str,
    "extra_hosts": str,
}
REPLACED = frozenset({"command", "entrypoint"})
MAPPED = frozenset({"environment", "labels", "annotations", "sysctls", "depends_on", "networks"})


def unique(entries: list[Any], key: Callable[[Any], str]) -> list[Any]:
    """Keep one entry per unique key, the later replacing the earlier in its position (compose-go)."""
    out: list[Any] = []
    index: dict[str, int] = {}
    for entry in entries:
        k = key(entry)
        if k in index:
            out[index[k]] = entry
        else:
            index[k] = len(out)
            out.append(entry)
    return out


# -- merging ------------------------------------------------------------------------------------------


def _merge_mappings(base: dict[str, Any], over: dict[str, Any], path: Path) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = merge_value(out[key], value, (*path, key)) if key in out else value
    return out


def _merge_logging(base: Any, over: Any, path: Path) -> Any:
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    if "driver" in base and "driver" in over and base["driver"] != over["driver"]:
        return over
    return _merge_mappings(base, over, path)


def merge_value(base: Any, over: Any, path: Path) -> Any:
    """Merge one value of a later file (``over``) into the earlier model (``base``) at ``path``."""
    in_service = len(path) >= 3 and path[0] == "services"
    attribute = path[2] if in_service else None
    if in_service and len(path) == 3:
        if attribute in REPLACED:
            return over
        if attribute == "logging":
            return _merge_logging(base, over, path)
    if in_service and path[2:] == ("healthcheck", "test"):
        return over
    if in_service and len(path) == 4 and path[2] == "ulimits":
        return over
    if over is None:
        return base
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_mappings(base, over, path)
    if isinstance(base, list) and isinstance(over, list):
        merged = base + over
        if in_service and len(path) == 3 and attribute in UNIQUE_SEQUENCES:
            merged = unique(merged, UNIQUE_SEQUENCES[attribute])
        return merged
    return over


def split_tags(doc: Any, path: Path = ()) -> tuple[Any, list[Path]]:
    """The document without tags, and the paths whose earlier value must go before merging.

    ``!reset`` drops the key from this file too; ``!override`` keeps this file's value.
    """
    cleared: list[Path] = []
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for key, value in doc.items():
            if isinstance(value, Tagged):
                cleared.append((*path, key))
                if value.tag == OVERRIDE_TAG:
                    inner, more = split_tags(value.value, (*path, key))
                    cleared.extend(more)
                    out[key] = inner
                continue
            inner, more = split_tags(value, (*path, key))
            cleared.extend(more)
            out[key] = inner
        return out, cleared
    if isinstance(doc, list):
        items = []
        for item in doc:
            if isinstance(item, Tagged):
                if item.tag == RESET_TAG:
                    continue
                item = item.value
            inner, more = split_tags(item, path)
            cleared.extend(more)
            items.append(inner)
        return items, cleared
    return doc, cleared


def _remove(model: dict[str, Any], path: Path) -> None:
    node: Any = model
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _normalise_unique(model: dict[str, Any]) -> dict[str, Any]:
    services = model.get("services")
    if isinstance(services, dict):
        for svc in services.values():
            if not isinstance(svc, dict):
                continue
            for attribute, key in UNIQUE_SEQUENCES.items():
                if isinstance(svc.get(attribute), list):
                    svc[attribute] = unique(svc[attribute], key)
    return model


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The Compose model of ``documents`` merged in order (base file first).

    Each document is expanded to canonical form first; tags are resolved per file, as Compose
    does: the tagged paths are cleared from the model merged so far, then the file is merged in.
    """
    model: dict[str, Any] = {}
    for raw in documents:
        doc = canonical(copy.deepcopy(raw))
        doc, cleared = split_tags(doc)
        for path in cleared:
            _remove(model, path)
        model = _merge_mappings(model, doc, ()) if model else doc
        model = _normalise_unique(model)
    return model
