"""Settings from Google Secret Manager, when configured: a pydantic-settings source.

On Cloud Run the usual way in is the platform's own secret mounting (``secretKeyRef`` in the service
YAML: the value arrives as an environment variable or file and this module is not involved). This
source serves processes that run elsewhere with the runtime service account (a job, a worker on a
VM, a laptop with ``gcloud auth application-default login``) and read the same secrets directly.

``COPILOT_SECRET_MANAGER_SECRETS`` maps settings fields to secrets, comma-separated::

    jwt_secret=mfgcp-prod-glb-jwt-signing-key,database_url=mfgcp-prod-euw4-database-url:3

A short name is looked up in ``COPILOT_SECRET_MANAGER_PROJECT`` (or ``GOOGLE_CLOUD_PROJECT``) at
version ``latest`` unless ``:VERSION`` follows; a full ``projects/.../secrets/...`` name is used as
given. A mapped secret that cannot be read stops the start with a message naming it: a service must
never come up with a default where a secret was promised.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

SECRETS_ENV = "COPILOT_SECRET_MANAGER_SECRETS"
PROJECT_ENV = "COPILOT_SECRET_MANAGER_PROJECT"
REQUEST_TIMEOUT_S = 10.0


class SecretManagerError(ValueError):
    """A configured secret could not be resolved; the message names it and the likely fix."""


@dataclass(frozen=True)
class SecretRef:
    field: str
    name: str  # projects/P/secrets/S/versions/V


def version_name(reference: str, project: str | None) -> str:
    """The full version resource name of ``secret``, ``secret:7`` or ``projects/p/secrets/s[/versions/v]``."""
    reference = reference.strip()
    if reference.startswith("projects/"):
        return reference if "/versions/" in reference else f"{reference}/versions/latest"
    secret, _, version = reference.partition(":")
    if not secret:
        raise SecretManagerError(f"{SECRETS_ENV}: an entry names no secret ({reference!r})")
    if not project:
        raise SecretManagerError(
            f"{SECRETS_ENV}: {secret!r} is a short secret name; set {PROJECT_ENV} (or GOOGLE_CLOUD_PROJECT) "
            "or give the full projects/PROJECT/secrets/NAME"
        )
    return f"projects/{project}/secrets/{secret}/versions/{version or 'latest'}"


def parse_mapping(text: str, fields: set[str], project: str | None) -> list[SecretRef]:
    refs = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        field, sep, reference = entry.partition("=")
        field = field.strip().lower()
        if not sep or not reference.strip():
            raise SecretManagerError(f"{SECRETS_ENV}: expected field=secret, got {entry!r}")
        if field not in fields:
            raise SecretManagerError(f"{SECRETS_ENV}: {field!r} is not a setting (known: {', '.join(sorted(fields))})")
        refs.append(SecretRef(field, version_name(reference, project)))
    return refs


def create_client() -> Any:
    """The Secret Manager client (Application Default Credentials: the runtime service account)."""
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient()


def access(client: Any, name: str) -> str:
    """The secret's value as text; trailing newlines (``echo value | gcloud secrets versions add``) removed."""
    from google.api_core import exceptions

    try:
        response = client.access_secret_version(request={"name": name}, timeout=REQUEST_TIMEOUT_S)
    except exceptions.NotFound:
        raise SecretManagerError(f"Secret Manager: {name} does not exist (create the secret or its version)") from None
    except exceptions.PermissionDenied:
        raise SecretManagerError(
            f"Secret Manager: permission denied on {name}; grant the runtime service account "
            "roles/secretmanager.secretAccessor on that secret"
        ) from None
    except exceptions.GoogleAPICallError as exc:
        raise SecretManagerError(f"Secret Manager: {name} could not be read: {exc}") from None
    try:
        return bytes(response.payload.data).decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise SecretManagerError(f"Secret Manager: {name} is not UTF-8 text") from None


class SecretManagerSource(PydanticBaseSettingsSource):
    """Values of the mapped fields, read once from Secret Manager when the settings are built."""

    def __init__(self, settings_cls: type[BaseSettings], refs: list[SecretRef], client_factory: Callable[[], Any]):
        super().__init__(settings_cls)
        self.refs = refs
        self.client_factory = client_factory

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # Unused: __call__ resolves every mapped field at once with one client.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.refs:
            return {}
        client = self.client_factory()
        return {ref.field: access(client, ref.name) for ref in self.refs}


def secret_manager_source(
    settings_cls: type[BaseSettings], client_factory: Callable[[], Any] | None = None
) -> SecretManagerSource | None:
    """The source when ``COPILOT_SECRET_MANAGER_SECRETS`` is set, else None (env and files only)."""
    mapping = os.environ.get(SECRETS_ENV, "").strip()
    if not mapping:
        return None
    project = os.environ.get(PROJECT_ENV) or os.environ.get("GOOGLE_CLOUD_PROJECT")
    refs = parse_mapping(mapping, set(settings_cls.model_fields), project)
    return SecretManagerSource(settings_cls, refs, client_factory or create_client)
