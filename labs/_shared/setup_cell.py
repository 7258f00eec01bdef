# Setup: run this cell first. It finds your capstone repository (the folder holding config/plant.yaml),
# makes its code importable and loads the plant profile: plant values always come from there.
LAB = "labNN"

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = next((p for p in (Path.cwd(), *Path.cwd().parents) if (p / "config" / "plant.yaml").is_file()), None)
if REPO is None:
    raise RuntimeError(f"no config/plant.yaml in {Path.cwd()} or above: open the notebook inside your capstone")
for entry in (str(REPO / "src"), str(REPO)):
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)

from common.config import load_plant_profile

PROFILE = load_plant_profile(REPO / "config" / "plant.yaml")
PLANT = PROFILE.plant
KEY_OUTPUTS: dict[str, str] = {}  # what this notebook established; the last cell records it
OPEN_ITEMS: list[str] = []  # what is not finished yet in your repository


def run(
    *command: str, cwd: Path | None = None, stdin: str | None = None, timeout: float = 60
) -> tuple[int | None, str]:
    """Run a tool or a repository script (from the repository root by default): (exit code, output).

    ``python`` means this notebook's interpreter. A missing tool or a timeout gives (None, why), not an error.
    """
    args = [sys.executable, *command[1:]] if command[0] == "python" else list(command)
    if shutil.which(args[0]) is None:
        return None, f"{args[0]} is not installed here (see References at the end of this notebook)"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}  # terraform: no version check calling home
    try:
        done = subprocess.run(
            args, cwd=cwd or REPO, input=stdin, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return None, f"{' '.join(args)} did not finish within {timeout:g} s"
    return done.returncode, (done.stdout + done.stderr).strip()


print(f"{PROFILE.company}: {PLANT.name} ({PLANT.code}), lines {', '.join(PLANT.production_lines)}")
print(f"capstone repository: {REPO}")
