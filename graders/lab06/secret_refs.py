"""Secrets in a Cloud Run revision: by reference to Secret Manager, pinned to a version, never literal.

Cloud Run resolves ``valueFrom.secretKeyRef`` (env) and secret volumes when an instance starts; the
``key`` is the secret's version. A version number makes the secret part of the revision, so a rollback
also restores the secret the old revision ran with; ``latest`` does not.
"""

from __future__ import annotations

import re

from graders.lab06.knative import Service

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DATABASE_URL|DSN", re.I)
CREDENTIAL_VALUE = re.compile(
    r"://[^/\s:@]+:[^/\s@]+@"  # a URL with a password
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # a JWT
    r"|\bAIza[0-9A-Za-z_-]{30,}"  # a Google API key
)
PINNED_VERSION = re.compile(r"^[1-9][0-9]*$")  # a Secret Manager version number (never "latest")


def secret_problems(service: Service) -> tuple[list[str], bool]:
    """(problems, provides_jwt_secret) for the env and volumes of every container."""
    problems: list[str] = []
    provides_jwt = False
    secret_volumes = {
        str(v.get("name"))
        for v in service.revision_spec.get("volumes") or []
        if isinstance(v, dict) and isinstance(v.get("secret"), dict)
    }
    for volume in service.revision_spec.get("volumes") or []:
        secret = volume.get("secret") if isinstance(volume, dict) else None
        if not isinstance(secret, dict):
            continue
        if not secret.get("secretName"):
            problems.append(f"volume {volume.get('name')!r} needs secret.secretName (the Secret Manager secret)")
        items = secret.get("items")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and not PINNED_VERSION.match(str(item.get("key", ""))):
                problems.append(
                    f"volume {volume.get('name')!r}: items key {item.get('key')!r} must be a pinned version number, "
                    "never latest"
                )
    for container in service.containers:
        for entry in container.get("env") or []:
            if not isinstance(entry, dict):
                continue
            name = str(entry.get("name", ""))
            if "value" in entry:
                value = str(entry.get("value"))
                if SECRET_NAME.search(name) and value:
                    problems.append(
                        f"env {name} is a literal value: take it from Secret Manager with valueFrom.secretKeyRef"
                    )
                elif CREDENTIAL_VALUE.search(value):
                    problems.append(f"env {name} holds a credential in its literal value: move it to Secret Manager")
                continue
            ref = entry.get("valueFrom", {}).get("secretKeyRef") if isinstance(entry.get("valueFrom"), dict) else None
            if isinstance(ref, dict):
                if not ref.get("name") or not ref.get("key"):
                    problems.append(f"env {name}: secretKeyRef needs name (the secret) and key (its version number)")
                    continue
                if not PINNED_VERSION.match(str(ref.get("key"))):
                    problems.append(
                        f"env {name}: secretKeyRef.key is {ref.get('key')!r}; pin the secret's version number (e.g. "
                        'key: "3"), never latest, so a rotation is a new revision and a rollback restores the '
                        "secret the old revision ran with"
                    )
                if name == "COPILOT_JWT_SECRET":
                    provides_jwt = True
        for mount in container.get("volumeMounts") or []:
            if isinstance(mount, dict) and mount.get("name") in secret_volumes:
                provides_jwt = True  # a secret file, e.g. /run/secrets/copilot_jwt_secret
    return problems, provides_jwt
