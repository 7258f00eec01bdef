"""The backup archive format: a tar.gz whose first member is MANIFEST.json (sha256 and size per file).

Every file is checked against the manifest before anything is restored, and member paths are
validated so that an archive can never write outside the restore target (no absolute paths, no
``..``, no links or devices), on every Python from 3.10 (tarfile's ``filter='data'`` is 3.12+).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "MANIFEST.json"
FORMAT_VERSION = 1
# What a backup holds by default: the documents the RAG index is built from, the equipment registry
# (retrieval boosts by equipment) and the plant configuration. All paths are relative to the repo root.
DEFAULT_SOURCES = ("data/documents", "data/equipment.yaml", "config")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message names the file and what to do."""


@dataclass(frozen=True)
class Entry:
    path: str
    sha256: str
    size: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def collect(root: Path, sources: Iterable[str]) -> list[Entry]:
    """Every regular file under ``sources`` (files or folders relative to ``root``), sorted."""
    entries: list[Entry] = []
    for source in sources:
        base = root / source
        if not base.exists():
            raise BackupError(f"{source}: not found under {root}; pass the repository root with --root")
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink())
        for file in files:
            rel = file.relative_to(root).as_posix()
            entries.append(Entry(rel, sha256_file(file), file.stat().st_size))
    return sorted(set(entries), key=lambda e: e.path)


def manifest_document(entries: list[Entry], sources: Iterable[str], plant: str) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "plant": plant,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sources": list(sources),
        "files": [{"path": e.path, "sha256": e.sha256, "size": e.size} for e in entries],
    }


def write_archive(root: Path, entries: list[Entry], manifest: dict[str, Any], dest: Path) -> Path:
    """Write the archive atomically (a half-written backup is never left under the final name)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    payload = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    with tarfile.open(partial, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(payload), int(time.time()), 0o644
        tar.addfile(info, io.BytesIO(payload))
        for entry in entries:
            tar.add(root / entry.path, arcname=entry.path, recursive=False)
    os.replace(partial, dest)
    return dest


def _safe_member(member: tarfile.TarInfo) -> str:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not member.name:
        raise BackupError(f"archive member {member.name!r} would be written outside the restore target")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"archive member {member.name!r} is a link or device; backups hold regular files only")
    return path.as_posix()


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        manifest: dict[str, Any] = json.loads(handle.read() if handle else b"")
    except (KeyError, json.JSONDecodeError) as exc:
        raise BackupError(f"the archive has no readable {MANIFEST} ({exc}); it is not a Copilot backup") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"{MANIFEST} has format {manifest.get('format')!r}; this script reads format {FORMAT_VERSION}"
        )
    return manifest


def verify_and_extract(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract into ``staging`` and check every file against the manifest; returns the manifest."""
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - closed by the with-block below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive}: cannot open the archive ({exc})") from None
    with tar:
        manifest = read_manifest(tar)
        expected = {f["path"]: f for f in manifest["files"]}
        seen: set[str] = set()
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            rel = _safe_member(member)
            if member.isdir():
                continue
            if rel not in expected:
                raise BackupError(f"{rel} is in the archive but not in its manifest: the archive was altered")
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                raise BackupError(f"{rel}: cannot be read from the archive")
            with source, target.open("wb") as out:
                while block := source.read(1 << 20):
                    out.write(block)
            if sha256_file(target) != expected[rel]["sha256"]:
                raise BackupError(f"{rel}: checksum differs from the manifest: the archive is corrupt")
            seen.add(rel)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"the archive lacks {len(missing)} file(s) its manifest lists, e.g. {missing[0]}")
    return manifest
