"""The Cloud Storage backend of the document store: ``COPILOT_DATA_DIR=gs://bucket/prefix``.

On Cloud Run the service reads the plant's documents and registry from a bucket instead of a baked-in
folder, so a corpus update is an upload, not a new image. Objects are encrypted with the bucket's
default customer-managed key (CMEK, set on the bucket by Lab 07's Terraform), so the code never
handles keys. Credentials come from the runtime service account (Application Default Credentials);
``STORAGE_EMULATOR_HOST`` points the client at a local emulator in tests.
"""

from __future__ import annotations

import mimetypes
import os
from typing import TYPE_CHECKING, Any

from copilot.storage.base import DocumentStore, DocumentStoreError

if TYPE_CHECKING:
    from google.cloud.storage import Client

SCHEME = "gs://"
REQUEST_TIMEOUT_S = 30.0


def parse_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/some/prefix`` -> (``bucket``, ``some/prefix``); the prefix may be empty."""
    if not uri.startswith(SCHEME):
        raise DocumentStoreError(f"{uri!r} is not a Cloud Storage URI (expected gs://bucket/prefix)")
    bucket, _, prefix = uri[len(SCHEME) :].partition("/")
    if not bucket:
        raise DocumentStoreError(f"{uri!r} names no bucket (expected gs://bucket/prefix)")
    return bucket, prefix.strip("/")


def clean_key(key: str, uri: str) -> str:
    """The key as an object-name suffix; refuses keys that would escape the prefix (same rule as local)."""
    parts = [p for p in key.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or key.startswith("/"):
        raise DocumentStoreError(f"{key!r} is not a valid document key (relative path inside {uri})")
    return "/".join(parts)


class GcsDocumentStore(DocumentStore):
    """Documents under a prefix of one bucket; the client is created on first use."""

    def __init__(self, bucket: str, prefix: str = "", client: Client | None = None) -> None:
        self.bucket_name = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"{SCHEME}{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self._client = client

    @classmethod
    def from_uri(cls, uri: str) -> GcsDocumentStore:
        bucket, prefix = parse_uri(uri)
        return cls(bucket, prefix)

    # -- helpers -----------------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        if self._client is None:
            from google.cloud import storage

            # The project only matters for listing buckets; objects are addressed by bucket name.
            self._client = storage.Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT"))
        return self._client

    def _object_name(self, key: str) -> str:
        suffix = clean_key(key, self.uri)
        return f"{self.prefix}/{suffix}" if self.prefix else suffix

    def _blob(self, key: str) -> Any:
        name = self._object_name(key)  # refuse a bad key before any client or network work
        return self.client.bucket(self.bucket_name).blob(name)

    def _error(self, key: str, action: str, exc: Exception) -> DocumentStoreError:
        return DocumentStoreError(f"{self.uri}/{key} cannot be {action}: {type(exc).__name__}: {exc}")

    # -- the interface -----------------------------------------------------------------------------
    def list(self, prefix: str = "") -> list[str]:
        from google.api_core import exceptions

        base = f"{self.prefix}/" if self.prefix else ""
        wanted = prefix.strip("/")
        search = base + (clean_key(wanted, self.uri) + "/" if wanted else "")
        try:
            blobs = list(self.client.list_blobs(self.bucket_name, prefix=search, timeout=REQUEST_TIMEOUT_S))
        except exceptions.NotFound:
            raise DocumentStoreError(f"{self.uri}: the bucket {self.bucket_name} does not exist") from None
        except exceptions.GoogleAPIError as exc:
            raise self._error(prefix or "(all keys)", "listed", exc) from None
        keys = []
        for blob in blobs:
            key = blob.name[len(base) :]
            # Folder placeholders (created by the console) and hidden files are not documents, as locally.
            if not key or key.endswith("/") or any(part.startswith(".") for part in key.split("/")):
                continue
            keys.append(key)
        return sorted(keys)

    def read_bytes(self, key: str) -> bytes:
        from google.api_core import exceptions

        blob = self._blob(key)
        try:
            data: bytes = blob.download_as_bytes(timeout=REQUEST_TIMEOUT_S)
        except exceptions.NotFound:
            raise DocumentStoreError(f"{self.uri}/{key} does not exist") from None
        except exceptions.GoogleAPIError as exc:
            raise self._error(key, "read", exc) from None
        return data

    def write_bytes(self, key: str, data: bytes) -> None:
        from google.api_core import exceptions

        blob = self._blob(key)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        try:
            blob.upload_from_string(data, content_type=content_type, timeout=REQUEST_TIMEOUT_S)
        except exceptions.GoogleAPIError as exc:
            raise self._error(key, "written", exc) from None

    def exists(self, key: str) -> bool:
        from google.api_core import exceptions

        try:
            return bool(self._blob(key).exists(timeout=REQUEST_TIMEOUT_S))
        except exceptions.GoogleAPIError as exc:
            raise self._error(key, "checked", exc) from None
