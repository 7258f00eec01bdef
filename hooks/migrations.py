"""Paths the template renamed between releases, moved in a student's repository by ``copier update``.

copier.yml's ``_migrations`` is generated from ``RENAMES``: updating across a release that renamed
a path runs this file after the update, which moves the student's version of the file to the new
path (their work wins over the new starter there) and removes the old one. Standard library only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rename:
    version: str  # the release tag that introduced the new path, e.g. "v0.2.0"
    old: str
    new: str


# Add one entry per renamed file or folder, in release order.
RENAMES: tuple[Rename, ...] = ()


def versions(renames: tuple[Rename, ...] = RENAMES) -> list[str]:
    """The releases that need a migration, in order, without repeats."""
    return list(dict.fromkeys(r.version for r in renames))


def apply_renames(root: Path, version: str, renames: tuple[Rename, ...] = RENAMES) -> list[str]:
    """Move the student's ``old`` paths of ``version`` to their ``new`` place; return what moved."""
    moved = []
    for rename in renames:
        if rename.version != version:
            continue
        old, new = root / rename.old, root / rename.new
        if not old.exists():
            continue
        if new.is_dir() and not new.is_symlink():
            shutil.rmtree(new)
        elif new.exists():
            new.unlink()
        new.parent.mkdir(parents=True, exist_ok=True)
        old.replace(new)
        moved.append(f"{rename.old} -> {rename.new}")
    return moved


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Move renamed template paths in a capstone repository.")
    parser.add_argument("--to", required=True, help="the release being migrated to, e.g. v0.2.0")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    for line in apply_renames(args.root, args.to):
        print(f"  moved {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
