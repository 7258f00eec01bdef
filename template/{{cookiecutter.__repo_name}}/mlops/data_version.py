"""Data versions: the hashes DVC recorded for the repository's data, checked against the files.

DVC 3 identifies a file by the md5 of its bytes and a folder by the md5 of a JSON listing of its
files (``[{"md5": ..., "relpath": ...}]`` sorted by path, serialised with ``sort_keys``) plus the
suffix ``.dir`` (https://dvc.org/doc/user-guide/project-structure/internal-files). Those hashes, as
recorded in ``*.dvc`` files and ``dvc.lock``, are the data versions a training run logs and a release
cites; this module recomputes them so a run never cites a version the files do not match, with or
without DVC installed (``dvc status`` says the same with it).

``python -m mlops.data_version`` lists them; ``--check`` exits 1 when a recorded hash is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

LOCK_FILE = "dvc.lock"
# Folders never searched for .dvc files (DVC's own folder, VCS data, environments, run-time state).
SKIP_DIRS = frozenset({".dvc", ".git", ".venv", "venv", "node_modules", "__pycache__", "var", "mlruns"})
CHUNK = 1 << 20


class DataVersionError(Exception):
    """A recorded data version does not match its files or cannot be read; the message says which and the fix."""


@dataclass(frozen=True)
class Measured:
    md5: str
    size: int
    nfiles: int | None  # folders only


@dataclass(frozen=True)
class Recorded:
    source: str  # "data/inspection/eval.dvc" or "dvc.lock (stage generate)"
    path: str  # repository-relative, POSIX
    md5: str
    size: int | None
    nfiles: int | None


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def measure(path: Path) -> Measured:
    """DVC's hash of a file or a folder (every file below it, recursively)."""
    if path.is_file():
        return Measured(md5_file(path), path.stat().st_size, None)
    if not path.is_dir():
        raise DataVersionError(f"{path}: no such file or folder")
    entries, size = [], 0
    for current, dirs, files in os.walk(path):
        dirs.sort()
        for name in files:
            full = Path(current, name)
            entries.append({"md5": md5_file(full), "relpath": full.relative_to(path).as_posix()})
            size += full.stat().st_size
    entries.sort(key=lambda e: e["relpath"])
    listing = json.dumps(entries, sort_keys=True).encode("utf-8")
    return Measured(hashlib.md5(listing, usedforsecurity=False).hexdigest() + ".dir", size, len(entries))


def _outs(raw: object, where: str) -> list[dict]:
    if not isinstance(raw, list) or not all(isinstance(o, dict) and "path" in o for o in raw):
        raise DataVersionError(f"{where}: 'outs' must be a list of entries with a path")
    return raw


def _recorded(entry: dict, base: PurePosixPath, source: str) -> Recorded:
    md5 = entry.get("md5")
    if not isinstance(md5, str):
        raise DataVersionError(f"{source}: the entry for {entry['path']} has no md5; run `dvc commit`")
    path = str(base / str(entry["path"])) if str(base) != "." else str(entry["path"])
    return Recorded(source, path, md5, entry.get("size"), entry.get("nfiles"))


def recorded(root: Path) -> list[Recorded]:
    """Every output hash recorded in ``*.dvc`` files and in ``dvc.lock``."""
    found: list[Recorded] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if not name.endswith(".dvc"):
                continue
            path = Path(current, name)
            rel = path.relative_to(root).as_posix()
            data = _load_yaml(path, rel)
            for entry in _outs(data.get("outs"), rel):
                found.append(_recorded(entry, PurePosixPath(rel).parent, rel))
    lock = root / LOCK_FILE
    if lock.is_file():
        stages = _load_yaml(lock, LOCK_FILE).get("stages") or {}
        for stage, body in stages.items():
            for entry in _outs((body or {}).get("outs") or [], f"{LOCK_FILE} (stage {stage})"):
                found.append(_recorded(entry, PurePosixPath("."), f"{LOCK_FILE} (stage {stage})"))
    return found


def _load_yaml(path: Path, rel: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataVersionError(f"{rel}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise DataVersionError(f"{rel}: expected a mapping")
    return data


def problems(root: Path) -> list[str]:
    """Why each stale recorded hash is stale (empty when every one matches its files)."""
    found = []
    for rec in recorded(root):
        target = root / rec.path
        if not target.exists():
            found.append(f"{rec.source}: {rec.path} does not exist")
            continue
        now = measure(target)
        if now.md5 != rec.md5:
            found.append(
                f"{rec.source}: {rec.path} hashes to {now.md5}, not the recorded {rec.md5}; "
                "if the change is intended, record it (`dvc commit` or `dvc repro`)"
            )
    return found


def versions(root: Path) -> dict[str, str]:
    """Recorded data versions by path, after checking that every one matches its files."""
    stale = problems(root)
    if stale:
        raise DataVersionError("stale data versions:\n" + "\n".join(f"- {p}" for p in stale))
    return {rec.path: rec.md5 for rec in recorded(root)}


def main(argv: Sequence[str] | None = None) -> int:
    from mlops.params import repo_root

    parser = argparse.ArgumentParser(prog="python -m mlops.data_version", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a recorded hash does not match its files")
    args = parser.parse_args(argv)
    root = repo_root()
    try:
        entries = recorded(root)
        stale = problems(root)
    except DataVersionError as exc:
        print(f"error: {exc}")
        return 2
    for rec in entries:
        print(f"{rec.md5:<40} {rec.path}  ({rec.source})")
    for problem in stale:
        print(f"STALE: {problem}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
