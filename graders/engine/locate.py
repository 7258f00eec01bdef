"""Which folder is the capstone repository: ``capstone grade`` finds it from wherever it is run.

A capstone (the reference solution, or a starter rendered by copier or cookiecutter) is the folder
that holds its plant profile, ``config/plant.yaml``: the file every lab reads and the one the
capstone's own code looks for in the same way (``common.config.find_profile``). A copier render
whose profile was deleted still counts, by its answers file (it names the plant), so that grading
says what is missing instead of refusing. Students run ``capstone grade`` from ``notebooks/`` or
any sub-folder, so the search walks up like git does; a batch of submissions grades each folder as
it is (``walk_up=False``), never the batch folder above it.
"""

from __future__ import annotations

import re
from pathlib import Path

PLANT_PROFILE = Path("config") / "plant.yaml"
COPIER_ANSWERS = ".copier-answers.yml"
_ANSWERS_NAME_THE_PLANT = re.compile(r"^plant_code\s*:", re.MULTILINE)
_ANSWERS_READ_LIMIT = 64 * 1024


class NotACapstone(Exception):
    """The folder (and, when searched, every folder above it) is no capstone repository."""


def is_capstone(folder: Path) -> bool:
    """Whether ``folder`` is the root of a capstone repository."""
    if (folder / PLANT_PROFILE).is_file():
        return True
    answers = folder / COPIER_ANSWERS
    try:
        with answers.open("r", encoding="utf-8", errors="replace") as fh:
            text = fh.read(_ANSWERS_READ_LIMIT)
    except OSError:
        return False
    return bool(_ANSWERS_NAME_THE_PLANT.search(text))


def find_capstone(start: Path, walk_up: bool = True) -> Path:
    """The capstone root: ``start`` itself or, with ``walk_up``, the nearest folder above it that is one.

    Raises ``NotADirectoryError`` when ``start`` is not a folder and ``NotACapstone`` when no capstone
    is found; both messages say what was expected and how to fix it.
    """
    here = start.absolute()
    if not here.is_dir():
        raise NotADirectoryError(f"{start}: not a folder; pass the path of the capstone repository to grade")
    resolved = here.resolve()
    for folder in [resolved, *resolved.parents] if walk_up else [resolved]:
        if is_capstone(folder):
            return here if folder == resolved else folder
    if walk_up:
        raise NotACapstone(
            f"{here} is not a capstone repository (no {PLANT_PROFILE.as_posix()} found here or above); "
            "run `capstone grade` from inside your capstone, or pass its path"
        )
    raise NotACapstone(f"{here} is not a capstone repository (no {PLANT_PROFILE.as_posix()} in it)")


def found_from(start: Path, root: Path) -> str | None:
    """Where the search started, relative to the root (``notebooks/``); None when it started at the root."""
    here = start.absolute().resolve()
    if here == root.resolve():
        return None
    try:
        return here.relative_to(root.resolve()).as_posix() + "/"
    except ValueError:
        return str(here)
