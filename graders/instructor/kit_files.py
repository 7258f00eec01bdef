"""Files of a capstone repository that the kit writes itself, from the lab metadata.

Two kinds: *generated reference files* (the Classroom workflow, the completed progress sheet) that
``capstone build`` keeps up to date inside ``reference_solution/``, and *kit starters* (the student
README, the empty progress sheet, the open-questions tracker) that replace a reference file in the
student template, the way ``starters:`` in lab.yaml do for a lab's whole-file deliverables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import jinja2

from graders.engine.labs import Lab
from graders.instructor import classroom
from graders.instructor.hooks import load_hook
from graders.instructor.release import kit_repository, release_tag

TEMPLATES = Path(__file__).with_name("templates")
HOOKS = Path(__file__).resolve().parents[2] / "hooks"  # the generation hooks of this checkout
PROGRESS_CSV = "capstone-progress.csv"
TRACKER = "PROGRESS_TRACKER.md"
README = "README.md"
# The format of common.progress (the notebooks) and graders.engine.progress (capstone grade --record-progress).
# The columns and statuses of common.progress in the reference solution (the notebooks write rows with it).
PROGRESS_COLUMNS = ("lab", "date", "outputs", "status")
# Files a student owns outright: `copier update` never overwrites them once they exist.
STUDENT_OWNED = (PROGRESS_CSV, TRACKER)


def progress_csv(labs: list[Lab], complete: bool) -> str:
    """One row per lab; in the reference every lab is done, its deliverables as the outputs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PROGRESS_COLUMNS)
    for lab in labs:
        outputs = "; ".join(d.path for d in lab.deliverables) if complete else ""
        writer.writerow([lab.id, "", outputs, "done" if complete else "not-started"])
    return buffer.getvalue()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["code"] = lambda text: f"`{text}`"
    return env


def student_readme(labs: list[Lab]) -> str:
    return (
        _environment()
        .get_template("student_readme.md.j2")
        .render(
            labs=labs,
            python_versions="3.10 or 3.11",
            tag=release_tag(),
            kit_repository=kit_repository(),
            owned=list(STUDENT_OWNED),
            course_data=list(load_hook(HOOKS, "post_gen_project").COURSE_DATA_PATHS),
            total=f"{sum(lab.points for lab in labs):g}",
        )
    )


def tracker_starter(labs: list[Lab]) -> str:
    return (TEMPLATES / "PROGRESS_TRACKER.md").read_text(encoding="utf-8")


def generated_reference_files(labs: list[Lab]) -> dict[str, str]:
    """Reference files whose content the kit derives from the lab metadata (path -> content)."""
    return {
        classroom.WORKFLOW_PATH: classroom.render(labs),
        classroom.REQUIREMENTS_PATH: classroom.requirements(),
        PROGRESS_CSV: progress_csv(labs, complete=True),
    }


KIT_STARTERS: dict[str, Callable[[list[Lab]], str]] = {
    README: student_readme,
    PROGRESS_CSV: lambda labs: progress_csv(labs, complete=False),
    TRACKER: tracker_starter,
}
