"""Settings from Secret Manager, against an in-process gRPC stand-in of the Secret Manager API.

The real ``SecretManagerServiceClient`` talks to a local gRPC server that implements
``AccessSecretVersion`` with the library's own message types, so request building, serialisation
and the mapping of gRPC status codes to exceptions are all exercised; nothing reaches the cloud.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import pytest

from copilot.core import secret_manager
from copilot.core.config import Settings
from copilot.core.secret_manager import SecretManagerError, parse_mapping, version_name

grpc = pytest.importorskip("grpc")
secretmanager = pytest.importorskip(
    "google.cloud.secretmanager_v1",
    reason="SKIPPED LOUDLY: google-cloud-secret-manager is not installed (pip install -e '.[dev]'), so the "
    "Secret Manager source was NOT tested",
)
pytestmark = pytest.mark.lab("lab06")

PROJECT = "meridian-test"
JWT_SECRET = "secret-manager-signing-secret-0123456789-abcdef"
METHOD = "/google.cloud.secretmanager.v1.SecretManagerService/AccessSecretVersion"


class FakeSecretManager(grpc.GenericRpcHandler):
    """Serves AccessSecretVersion from a dict of version names; records every name asked for."""

    def __init__(self, values: dict[str, bytes], forbidden: set[str]) -> None:
        self.values, self.forbidden, self.requests = values, forbidden, []

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler | None:
        if handler_call_details.method != METHOD:
            return None
        types = secretmanager.types

        def access(request: Any, context: grpc.ServicerContext) -> Any:
            self.requests.append(request.name)
            if request.name in self.forbidden:
                context.abort(grpc.StatusCode.PERMISSION_DENIED, "Permission denied")
            if request.name not in self.values:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{request.name}] not found")
            payload = types.SecretPayload(data=self.values[request.name])
            return types.AccessSecretVersionResponse(name=request.name, payload=payload)

        return grpc.unary_unary_rpc_method_handler(
            access,
            request_deserializer=types.AccessSecretVersionRequest.deserialize,
            response_serializer=types.AccessSecretVersionResponse.serialize,
        )


@pytest.fixture
def fake_secret_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSecretManager]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    handler = FakeSecretManager(
        {
            f"projects/{PROJECT}/secrets/jwt/versions/latest": (JWT_SECRET + "\n").encode(),
            f"projects/{PROJECT}/secrets/db/versions/3": b"postgresql://copilot:pw@/copilot?host=/cloudsql/x",
        },
        forbidden={f"projects/{PROJECT}/secrets/locked/versions/latest"},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    def client() -> Any:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        transport = SecretManagerServiceGrpcTransport(channel=channel, credentials=AnonymousCredentials())
        return secretmanager.SecretManagerServiceClient(transport=transport)

    monkeypatch.setattr(secret_manager, "create_client", client)
    monkeypatch.setenv("COPILOT_SECRET_MANAGER_PROJECT", PROJECT)
    monkeypatch.delenv("COPILOT_JWT_SECRET", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COPILOT_SECRETS_DIR", "/nonexistent-secrets-dir")
    monkeypatch.chdir("/")  # no .env file from the working directory
    try:
        yield handler
    finally:
        server.stop(None)


def test_settings_come_from_secret_manager(fake_secret_manager: FakeSecretManager, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COPILOT_SECRET_MANAGER_SECRETS", "jwt_secret=jwt, database_url=db:3")
    settings = Settings(env="production")
    assert settings.jwt_secret.get_secret_value() == JWT_SECRET  # trailing newline of `echo | gcloud` removed
    assert settings.database_url.startswith("postgresql://copilot:pw@")
    assert sorted(fake_secret_manager.requests) == [
        f"projects/{PROJECT}/secrets/db/versions/3",
        f"projects/{PROJECT}/secrets/jwt/versions/latest",
    ]


def test_environment_overrides_secret_manager(fake_secret_manager: FakeSecretManager, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COPILOT_SECRET_MANAGER_SECRETS", "jwt_secret=jwt")
    monkeypatch.setenv("COPILOT_JWT_SECRET", "from-the-environment-which-is-long-enough-123")
    assert Settings(env="production").jwt_secret.get_secret_value().startswith("from-the-environment")


def test_unconfigured_means_no_secret_manager(fake_secret_manager: FakeSecretManager, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("COPILOT_SECRET_MANAGER_SECRETS", raising=False)
    Settings(env="test")
    assert fake_secret_manager.requests == []


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("jwt_secret=missing", "does not exist"),
        ("jwt_secret=locked", "grant the runtime service account roles/secretmanager.secretAccessor"),
    ],
)
def test_unreadable_secret_stops_the_start(
    fake_secret_manager: FakeSecretManager, monkeypatch: pytest.MonkeyPatch, mapping: str, message: str
) -> None:
    monkeypatch.setenv("COPILOT_SECRET_MANAGER_SECRETS", mapping)
    with pytest.raises(SecretManagerError, match=message):
        Settings(env="production")


def test_version_names() -> None:
    assert version_name("jwt", "p") == "projects/p/secrets/jwt/versions/latest"
    assert version_name("jwt:4", "p") == "projects/p/secrets/jwt/versions/4"
    assert version_name("projects/q/secrets/s", None) == "projects/q/secrets/s/versions/latest"
    with pytest.raises(SecretManagerError, match="short secret name"):
        version_name("jwt", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [("jwt_secret", "expected field=secret"), ("no_such_field=x", "is not a setting"), ("jwt_secret=", "field=secret")],
)
def test_bad_mapping_is_named(text: str, message: str) -> None:
    with pytest.raises(SecretManagerError, match=message):
        parse_mapping(text, {"jwt_secret"}, "p")
