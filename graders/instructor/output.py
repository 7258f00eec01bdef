"""Writing the built template to disk, and telling what on disk is stale (``capstone build --check``)."""

from __future__ import annotations

import os
from pathlib import Path

from graders.instructor.layout import BuildResult, KitPaths, OutFile, is_executable


def _existing(root: Path) -> dict[str, OutFile]:
    found: dict[str, OutFile] = {}
    if not root.is_dir():
        return found
    for current, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = Path(current) / name
            found[path.relative_to(root).as_posix()] = OutFile(path.read_bytes(), is_executable(path))
    return found


def differences(kit_root: Path, result: BuildResult) -> list[str]:
    """What is stale on disk compared with ``result`` (empty when everything is up to date)."""
    paths = KitPaths(kit_root)
    stale = []
    for rel, content in result.generated_reference.items():
        target = paths.reference / rel
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            stale.append(f"reference_solution/{rel} (generated from the lab metadata)")
    if not paths.copier_yml.is_file() or paths.copier_yml.read_text(encoding="utf-8") != result.copier_yml:
        stale.append("copier.yml")
    existing = _existing(paths.template)
    for rel in sorted(set(existing) | set(result.files)):
        want, have = result.files.get(rel), existing.get(rel)
        if want is None:
            stale.append(f"template/{rel} (no longer generated)")
        elif have is None:
            stale.append(f"template/{rel} (missing)")
        elif want != have:
            stale.append(f"template/{rel} (differs)")
    return stale


def write(kit_root: Path, result: BuildResult) -> list[str]:
    """Bring the template, copier.yml and the generated reference files up to date; return what changed."""
    paths = KitPaths(kit_root)
    changed = differences(kit_root, result)
    for rel, content in result.generated_reference.items():
        target = paths.reference / rel
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    if not paths.copier_yml.is_file() or paths.copier_yml.read_text(encoding="utf-8") != result.copier_yml:
        paths.copier_yml.write_text(result.copier_yml, encoding="utf-8")
    write_tree(paths.template, result.files)
    return changed


def write_tree(root: Path, files: dict[str, OutFile]) -> None:
    """Make ``root`` hold exactly ``files`` (unchanged files are not rewritten)."""
    existing = _existing(root)
    for rel in set(existing) - set(files):
        (root / rel).unlink()
    for rel, out in files.items():
        target = root / rel
        if existing.get(rel) != out:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(out.content)
        mode = target.stat().st_mode
        wanted = mode | 0o111 if out.executable else mode & ~0o111
        if wanted != mode:
            target.chmod(wanted)
    for current, _dirs, _names in os.walk(root, topdown=False):
        folder = Path(current)
        if folder != root and not any(folder.iterdir()):
            folder.rmdir()


def stage_template(kit_root: Path, dest: Path, result: BuildResult) -> Path:
    """Write a self-contained copy of the template source (copier.yml, template/, hooks/) under ``dest``."""
    write_tree(dest / "template", result.files)
    (dest / "copier.yml").write_text(result.copier_yml, encoding="utf-8")
    hooks = dest / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    for hook in sorted((kit_root / "hooks").glob("*.py")):
        (hooks / hook.name).write_bytes(hook.read_bytes())
    return dest
