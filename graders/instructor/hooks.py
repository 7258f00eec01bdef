"""Loading the template's generation hooks (``hooks/*.py``): scripts beside the template, not a package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_hook(hooks_dir: Path, name: str) -> ModuleType:
    """Import ``hooks/<name>.py`` (hooks are scripts, not a package)."""
    path = hooks_dir / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"capstone_hooks_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module
