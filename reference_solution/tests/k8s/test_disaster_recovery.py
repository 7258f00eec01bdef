"""Backup, destroy, restore, compare: the DR scripts on the real corpus and configuration."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

from dr.archive import DEFAULT_SOURCES, BackupError, collect, verify_and_extract  # noqa: E402


@pytest.fixture
def plant_repo(tmp_path: Path) -> Path:
    """A copy of the repository's backed-up sources (the RAG documents, equipment registry, config)."""
    root = tmp_path / "repo"
    for source in DEFAULT_SOURCES:
        src = REPO / source
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / source)
    return root


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def _corpus_fingerprint(root: Path) -> str:
    from copilot.rag.corpus import load_corpus
    from copilot.storage.local import LocalDocumentStore

    return load_corpus(LocalDocumentStore(root / "data")).fingerprint


def test_round_trip_restores_every_file_and_the_same_index(plant_repo: Path, tmp_path: Path) -> None:
    before = collect(plant_repo, DEFAULT_SOURCES)
    fingerprint = _corpus_fingerprint(plant_repo)
    backup = _run("dr_backup.py", "--root", str(plant_repo), "--out", str(tmp_path / "backups"))
    assert backup.returncode == 0, backup.stderr
    archive = Path(backup.stdout.strip())
    assert archive.name.startswith("copilot-rvb01-") and archive.is_file()

    shutil.rmtree(plant_repo / "data")  # the disaster: the volume holding the corpus is lost
    (plant_repo / "config" / "plant.yaml").write_text("plant: {code: WRONG}\n")  # and config was clobbered

    restored = _run("dr_restore.py", str(archive), "--root", str(plant_repo))
    assert restored.returncode == 0, restored.stderr
    assert collect(plant_repo, DEFAULT_SOURCES) == before
    assert _corpus_fingerprint(plant_repo) == fingerprint
    assert (plant_repo / "config.before-restore" / "plant.yaml").read_text() == "plant: {code: WRONG}\n"


def test_a_corrupt_archive_is_refused_before_anything_changes(plant_repo: Path, tmp_path: Path) -> None:
    archive = Path(_run("dr_backup.py", "--root", str(plant_repo), "--out", str(tmp_path)).stdout.strip())
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "config/plant.yaml":
                data += b"# edited\n"
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    before = collect(plant_repo, DEFAULT_SOURCES)
    result = _run("dr_restore.py", str(tampered), "--root", str(plant_repo))
    assert result.returncode == 1 and "config/plant.yaml: checksum differs" in result.stderr
    assert collect(plant_repo, DEFAULT_SOURCES) == before


def test_members_that_escape_the_target_are_refused(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        manifest = b'{"format": 1, "sources": ["config"], "files": [], "created_at": "x", "plant": "x"}'
        info = tarfile.TarInfo("MANIFEST.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        evil = tarfile.TarInfo("../outside.txt")
        evil.size = 1
        tar.addfile(evil, io.BytesIO(b"x"))
    with pytest.raises(BackupError, match="outside the restore target"):
        verify_and_extract(hostile, tmp_path / "staging")
    assert not (tmp_path / "outside.txt").exists()


def test_retention_keeps_the_newest_archives(plant_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "backups"
    out.mkdir()
    for stamp in ("20261101T020000Z", "20261102T020000Z", "20261103T020000Z"):
        (out / f"copilot-rvb01-{stamp}.tar.gz").write_bytes(b"old")
    assert _run("dr_backup.py", "--root", str(plant_repo), "--out", str(out), "--keep", "2").returncode == 0
    kept = sorted(p.name for p in out.iterdir())
    assert len(kept) == 2 and kept[0] == "copilot-rvb01-20261103T020000Z.tar.gz"
