"""Restore a backup written by dr_backup.py, after checking every file against its manifest.

    python scripts/dr_restore.py backups/copilot-rvb01-20261129T020000Z.tar.gz --root .
    python scripts/dr_restore.py ARCHIVE --verify-only      # check the archive, change nothing

Nothing is touched until the whole archive has been extracted to a staging folder and verified.
Each backed-up source (e.g. data/documents) is then swapped in as a whole, so a restore never
leaves a mix of old and new documents; the replaced copy is kept as <source>.before-restore.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dr.archive import BackupError, verify_and_extract

KEPT_SUFFIX = ".before-restore"


def _swap_in(staged: Path, target: Path) -> None:
    kept = target.with_name(target.name + KEPT_SUFFIX)
    if kept.exists():
        shutil.rmtree(kept) if kept.is_dir() else kept.unlink()
    if target.exists():
        target.rename(kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staged), str(target))


def restore(archive: Path, root: Path, verify_only: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="copilot-restore-", dir=root if root.is_dir() else None) as tmp:
        staging = Path(tmp)
        manifest = verify_and_extract(archive, staging)
        if not verify_only:
            for source in manifest["sources"]:
                staged = staging / source
                if staged.exists():
                    _swap_in(staged, root / source)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="a .tar.gz written by dr_backup.py")
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root to restore into (default: .)")
    parser.add_argument("--verify-only", action="store_true", help="check the archive against its manifest only")
    args = parser.parse_args(argv)
    try:
        manifest = restore(args.archive, args.root.resolve(), args.verify_only)
    except (BackupError, OSError) as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    action = "verified" if args.verify_only else "restored"
    print(f"{action} {len(manifest['files'])} files from {args.archive} (backup of {manifest['created_at']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
