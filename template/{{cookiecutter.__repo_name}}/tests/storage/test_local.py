"""The local document store."""

import pytest

from copilot.storage import DocumentStoreError, LocalDocumentStore, open_document_store


def test_write_read_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalDocumentStore(tmp_path)
    store.write_bytes("documents/a.md", b"# A")
    store.write_bytes("documents/sub/b.md", b"# B")
    store.write_bytes("equipment.yaml", b"equipment: []")
    assert store.list("documents") == ["documents/a.md", "documents/sub/b.md"]
    assert store.read_text("documents/a.md") == "# A"
    assert store.exists("equipment.yaml") and not store.exists("nope.md")


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "documents/../../x", ""])
def test_keys_cannot_leave_the_store(tmp_path, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentStoreError):
        LocalDocumentStore(tmp_path).read_bytes(key)


def test_missing_key_names_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentStoreError, match="does not exist"):
        LocalDocumentStore(tmp_path).read_bytes("missing.md")


def test_factory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(open_document_store(tmp_path), LocalDocumentStore)
    with pytest.raises(DocumentStoreError, match="no document store for s3://"):
        open_document_store("s3://bucket/data")
