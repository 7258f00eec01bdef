"""The local filesystem backend of the document store."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from copilot.storage.base import DocumentStore, DocumentStoreError


class LocalDocumentStore(DocumentStore):
    """Documents in a folder; keys never leave it (no ``..``, no absolute paths)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        parts = [p for p in key.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts or key.startswith("/"):
            raise DocumentStoreError(f"{key!r} is not a valid document key (relative path inside {self.uri})")
        return self.root.joinpath(*parts)

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if not name.startswith("."):
                    keys.append((Path(dirpath) / name).relative_to(self.root).as_posix())
        return sorted(keys)

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise DocumentStoreError(f"{self.uri}/{key} does not exist") from None
        except OSError as exc:
            raise DocumentStoreError(f"{self.uri}/{key} cannot be read: {exc.strerror}") from None

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()
