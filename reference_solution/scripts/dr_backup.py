"""Back up the Copilot's vector store inputs and configuration into one verified archive.

    python scripts/dr_backup.py --root . --out backups/            # writes backups/copilot-rvb01-<UTC>.tar.gz
    python scripts/dr_backup.py --keep 14                          # and keeps only the newest 14

The archive holds the RAG corpus (data/documents), the equipment registry and config/, with a
MANIFEST.json of sha256 checksums; copy it off-site with `gcloud storage cp` (see
docs/disaster-recovery.md for the schedule, RPO and RTO).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dr.archive import DEFAULT_SOURCES, BackupError, collect, manifest_document, write_archive

PREFIX = "copilot-"


def plant_code(root: Path) -> str:
    """The plant code from config/plant.yaml (lower case, for the archive name); 'plant' if unknown."""
    config = root / "config" / "plant.yaml"
    if config.is_file():
        for line in config.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("code:"):
                return stripped.split(":", 1)[1].strip().strip("'\"").lower() or "plant"
    return "plant"


def backup(root: Path, out: Path, sources: Sequence[str] = DEFAULT_SOURCES, keep: int | None = None) -> Path:
    plant = plant_code(root)
    entries = collect(root, sources)
    if not entries:
        raise BackupError(f"nothing to back up under {', '.join(sources)}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = out / f"{PREFIX}{plant}-{stamp}.tar.gz"
    write_archive(root, entries, manifest_document(entries, sources, plant), dest)
    if keep is not None:
        archives = sorted(out.glob(f"{PREFIX}{plant}-*.tar.gz"))
        for old in archives[:-keep]:
            old.unlink()
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    parser.add_argument("--out", type=Path, default=Path("backups"), help="folder for archives (default: backups)")
    parser.add_argument("--source", action="append", help=f"file or folder to include (default: {DEFAULT_SOURCES})")
    parser.add_argument("--keep", type=int, help="keep only this many newest archives of the plant")
    args = parser.parse_args(argv)
    try:
        dest = backup(args.root.resolve(), args.out, tuple(args.source or DEFAULT_SOURCES), args.keep)
    except (BackupError, OSError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
