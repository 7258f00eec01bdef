"""The Cloud Storage document store against a local GCS emulator (gcp-storage-emulator), never the cloud.

The emulator speaks the JSON API that google-cloud-storage uses; ``STORAGE_EMULATOR_HOST`` points
the real client at it, so these tests exercise the same code path as Cloud Run.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot.core.config import Settings
from copilot.main import create_app
from copilot.storage import DocumentStoreError, open_document_store
from copilot.storage.gcs import GcsDocumentStore, parse_uri

emulator = pytest.importorskip(
    "gcp_storage_emulator.server",
    reason="SKIPPED LOUDLY: gcp-storage-emulator is not installed (pip install -e '.[dev]'), so the Cloud Storage "
    "backend was NOT tested",
)
pytestmark = pytest.mark.lab("lab06")

REPO = Path(__file__).resolve().parents[2]
BUCKET = "mfgcp-test-euw4-documents"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def emulator_host() -> Iterator[str]:
    port = _free_port()
    server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def gcs(emulator_host: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """STORAGE_EMULATOR_HOST set for this test; the bucket is emptied afterwards."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator_host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test-project")
    yield emulator_host
    httpx.get(f"{emulator_host}/wipe", params={"keep-buckets": "true"}, timeout=5)


def test_uri_parsing() -> None:
    assert parse_uri("gs://bucket/a/b/") == ("bucket", "a/b")
    assert parse_uri("gs://bucket") == ("bucket", "")
    with pytest.raises(DocumentStoreError, match="names no bucket"):
        parse_uri("gs:///data")


def test_factory_selects_the_gcs_backend() -> None:
    store = open_document_store(f"gs://{BUCKET}/data")
    assert isinstance(store, GcsDocumentStore)
    assert store.uri == f"gs://{BUCKET}/data"


def test_write_read_list_exists(gcs: str) -> None:
    store = GcsDocumentStore.from_uri(f"gs://{BUCKET}/plant")
    store.write_bytes("documents/a.md", b"# A")
    store.write_bytes("documents/sub/b.md", b"# B")
    store.write_bytes("equipment.yaml", b"equipment: []")
    store.write_bytes("documents/.hidden", b"x")
    GcsDocumentStore(BUCKET, "other").write_bytes("documents/c.md", b"# C")  # another prefix: invisible
    assert store.list("documents") == ["documents/a.md", "documents/sub/b.md"]
    assert store.list() == ["documents/a.md", "documents/sub/b.md", "equipment.yaml"]
    assert store.read_text("documents/a.md") == "# A"
    assert store.exists("equipment.yaml") and not store.exists("missing.md")


def test_missing_object_names_the_uri(gcs: str) -> None:
    with pytest.raises(DocumentStoreError, match=f"gs://{BUCKET}/plant/missing.md does not exist"):
        GcsDocumentStore.from_uri(f"gs://{BUCKET}/plant").read_bytes("missing.md")


def test_missing_bucket_is_a_clear_error(gcs: str) -> None:
    with pytest.raises(DocumentStoreError, match="does not exist"):
        GcsDocumentStore("no-such-bucket").list()


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "documents/../../x", ""])
def test_keys_cannot_leave_the_prefix(key: str) -> None:
    with pytest.raises(DocumentStoreError, match="not a valid document key"):
        GcsDocumentStore(BUCKET, "plant").read_bytes(key)


def _upload(folder: Path, store: GcsDocumentStore) -> int:
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".md", ".yaml", ".jsonl"):
            store.write_bytes(path.relative_to(folder).as_posix(), path.read_bytes())
            count += 1
    return count


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_service_answers_from_a_bucket(gcs: str, tmp_path: Path) -> None:
    """COPILOT_DATA_DIR=gs://...: registry, corpus and index come from Cloud Storage, as on Cloud Run."""
    from copilot.security.tokens import mint_token

    store = GcsDocumentStore(BUCKET, "data")
    assert _upload(REPO / "data", store) > 200
    secret = "gcs-test-signing-secret-that-is-long-enough-42"
    settings = Settings(
        env="test",
        jwt_secret=secret,
        database_url=f"sqlite:///{tmp_path / 'copilot.db'}",
        data_dir=f"gs://{BUCKET}/data",
        plant_config=REPO / "config" / "plant.yaml",
        model_uri=str(REPO / "models" / "inspection-cnn.pt"),
        log_level="WARNING",
    )
    app = create_app(settings)
    token = mint_token(secret, sub="gcs-test", role="engineer", plants=["RVB01"])
    async with app.router.lifespan_context(app):
        assert app.state.services.documents.uri == f"gs://{BUCKET}/data"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://copilot.test") as client:
            response = await client.post(
                "/v1/rag/query",
                json={"question": "Which spare part number is the encoder cable for connector X12?", "plant": "RVB01"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 200, response.text
    assert "KR-EC-0712" in response.json()["answer"]
