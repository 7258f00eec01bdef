"""What happens after the files are generated, for copier (a task) and cookiecutter (a hook) alike.

Each step is a small function named for what it does; ``main`` reads the answers and dispatches.
Cookiecutter runs this file after rendering it with Jinja (the answers arrive in
``RENDERED_ANSWERS``, with cookiecutter's ``_repo_dir``: the template folder); copier's task passes
``--tool copier --operation copy|update --answers JSON --course-data TEMPLATE/COURSE_DATA_DIR``.
Standard library only, and no Jinja delimiters anywhere but the marked line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# Cookiecutter renders the next line to the answers as JSON; anywhere else it stays as written.
RENDERED_ANSWERS = r"""{{ cookiecutter | jsonify }}"""

TEMPLATE_SUFFIX = ".jinja"
ANSWERS_FILE = ".copier-answers.yml"
# Paths (fnmatch patterns, relative to the repository root) only the GPU variant needs. copier.yml's
# `_exclude` is generated from this list too, so both tools leave out the same files.
GPU_ONLY_PATHS = (
    "Dockerfile.gpu",
    "docker-compose.gpu.yml",
    "k8s/overlays/gpu",
    "helm/*/values-gpu.yaml",
)
# Course data folders (relative to the repository root). `capstone build` puts them in
# template/COURSE_DATA_DIR, outside the folder the tools render, and this hook copies them in one
# pass: copier pays a few milliseconds per file it walks, and the 901 inspection images were two
# thirds of the template. Once copied, the data is the student's (lab01 versions it with DVC and may
# regenerate it): a file already in the repository is never overwritten, on update too.
COURSE_DATA_PATHS = ("data/inspection/train", "data/inspection/eval")
COURSE_DATA_DIR = "course-data"
COPIER_CONFIGS = ("copier.yml", "copier.yaml")
ANSWERS_HEADER = (  # the first line of copier's own answers file (template/.../.copier-answers.yml.jinja)
    "# Answers this repository was generated with; `copier update` reads and rewrites them. Never edit by hand."
)
# What cookiecutter clones rather than reads from disk (its own rule, cookiecutter.repository.is_repo_url,
# plus its gh:/gl:/bb: abbreviations).
COOKIECUTTER_URL = re.compile(r"^(((git|hg)\+)?(git|ssh|file|https?):(//)?|\w+@[\w.]+|(gh|gl|bb):)")
BITBUCKET_ABBREVIATION = re.compile(r"^bb:")
TRACKER_FILE = "PROGRESS_TRACKER.md"
TRACKER_LOG_HEADING = "## Log"
# The defaults of the personal answers (pre_gen_project.PLACEHOLDERS; a test keeps the two equal).
PLACEHOLDERS = {"student_name": "Your Name", "github_username": "YOUR-GITHUB-USERNAME"}
# The graders' pin that `capstone build` renders from the kit's release (read by `make grade` and Classroom).
GRADERS_REQUIREMENTS = ".github/graders-requirements.txt"


def strip_template_suffix(root: Path) -> list[Path]:
    """Rename ``x.jinja`` to ``x`` (cookiecutter renders those files but keeps copier's suffix)."""
    renamed = []
    for path in sorted(root.rglob(f"*{TEMPLATE_SUFFIX}")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        target = path.with_name(path.name[: -len(TEMPLATE_SUFFIX)])
        path.replace(target)
        renamed.append(target)
    return renamed


def remove_empty_answers_file(root: Path) -> None:
    """Drop the copier answers file that cookiecutter renders empty (copier fills it, cookiecutter cannot)."""
    answers = root / ANSWERS_FILE
    if answers.is_file() and not answers.read_text(encoding="utf-8").strip():
        answers.unlink()


def cookiecutter_template_dir(repo_dir: str, output_dir: str | None = None) -> Path | None:
    """The template folder cookiecutter rendered (its ``_repo_dir``), as an absolute path; None when not found.

    Cookiecutter records the folder as it was typed (``cookiecutter ./kit --directory template`` gives
    ``./kit/template``) and runs this hook inside the new project, so a relative one is resolved here
    against where cookiecutter was started: the shell's ``PWD``, the output folder (``.`` unless ``-o``)
    and, on Linux, cookiecutter's own working folder (the template folder while it runs the hooks).
    """
    path = Path(repo_dir)
    if path.is_absolute():
        return path if path.is_dir() else None
    name = Path(os.path.normpath(repo_dir)).name  # "" for "."
    bases = [os.environ.get("PWD"), output_dir]
    candidates = [Path(base) / path for base in bases if base] + [Path(f"/proc/{os.getppid()}/cwd")]
    for candidate in candidates:
        if (candidate / "cookiecutter.json").is_file() and (not name or candidate.resolve().name == name):
            return candidate.resolve()
    return None


def _copier_folder(template: Path) -> Path | None:
    """The template's copier project: the nearest folder holding copier.yml (``template/`` sits in it)."""
    return next((f for f in (template, *template.parents) if any((f / n).is_file() for n in COPIER_CONFIGS)), None)


def _described_commit(folder: Path) -> str | None:
    """``git describe --tags --always`` of ``folder`` when it is a git checkout's root (copier's ``_commit``)."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != folder.resolve():
        return None
    described = _git(folder, "describe", "--tags", "--always")
    return described.stdout.strip() or None if described.returncode == 0 else None


def _yaml_lines(data: dict[str, Any]) -> str:
    """``data`` as copier writes its answers (PyYAML, which copier and cookiecutter both install), else JSON scalars."""
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return "".join(f"{key}: {json.dumps(value)}\n" for key, value in sorted(data.items()))
    return str(yaml.safe_dump(data, indent=4, allow_unicode=True, default_flow_style=False))


def write_copier_answers(root: Path, answers: dict[str, Any], template: Path | None) -> str:
    """Write the answers file that copier writes itself, so a cookiecutter student can run ``copier update``.

    It holds what copier records: ``_commit`` (``git describe --tags --always`` of the template's checkout),
    ``_src_path`` (the template cookiecutter was given: its URL, or the folder holding copier.yml) and
    every answer. Without ``_commit`` (a template outside git) copier update refuses and says why.
    """
    target = root / ANSWERS_FILE
    if target.exists():
        return f"kept the existing {ANSWERS_FILE}"
    folder = _copier_folder(template) if template is not None else None
    if folder is None:
        return (
            f"warning: {ANSWERS_FILE} was not written (the template's copier.yml was not found), so "
            "`copier update` cannot bring course updates: render with copier, or with cookiecutter 2.2 or later "
            "from the course repository"
        )
    given = str(answers.get("_template") or "")
    # The URL cookiecutter cloned (copier knows its gh: and gl: abbreviations, not bb:), else the local folder.
    source = str(folder)
    if COOKIECUTTER_URL.match(given):
        source = BITBUCKET_ABBREVIATION.sub("https://bitbucket.org/", given)
    data: dict[str, Any] = {"_src_path": source}
    commit = _described_commit(folder)
    if commit:
        data["_commit"] = commit
    data.update((key, value) for key, value in answers.items() if not str(key).startswith("_"))
    target.write_text(f"{ANSWERS_HEADER}\n{_yaml_lines(data)}", encoding="utf-8")
    at = f" at {commit}" if commit else " (not a git checkout: copier update needs a tagged one)"
    return f"wrote {ANSWERS_FILE} for `copier update` (template {source}{at})"


def gpu_only_paths(root: Path) -> list[Path]:
    """The files and folders under ``root`` that match GPU_ONLY_PATHS."""
    found = []
    for current, dirs, files in os.walk(root):
        rel_dir = Path(current).relative_to(root)
        if ".git" in rel_dir.parts:
            continue
        for name in sorted(dirs + files):
            rel = (rel_dir / name).as_posix()
            if any(fnmatch.fnmatchcase(rel, pattern) for pattern in GPU_ONLY_PATHS):
                found.append(root / rel)
    return found


def remove_gpu_files(root: Path) -> list[Path]:
    """Delete what only the GPU variant needs (for students who answered gpu_variant = no)."""
    removed = []
    for path in gpu_only_paths(root):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed


def copy_course_data(root: Path, source: Path) -> list[Path]:
    """Copy COURSE_DATA_PATHS from ``source`` (template/COURSE_DATA_DIR) into ``root``; skip files that exist.

    A folder the student replaced by a symbolic link (a DVC cache, a mounted share) is left alone, so
    nothing is ever written outside the repository.
    """
    copied = []
    for folder in COURSE_DATA_PATHS:
        for current, _dirs, files in os.walk(source / folder):
            rel_dir = Path(current).relative_to(source)
            target_dir = root / rel_dir
            if any((root / Path(*rel_dir.parts[:i])).is_symlink() for i in range(1, len(rel_dir.parts) + 1)):
                continue
            target_dir.mkdir(parents=True, exist_ok=True)
            for name in sorted(files):
                target = target_dir / name
                if not os.path.lexists(target):
                    shutil.copyfile(Path(current) / name, target)
                    copied.append(target)
    return copied


def stamp_progress_tracker(root: Path, answers: dict[str, Any], today: dt.date) -> bool:
    """Add the repository's first entry to the progress tracker's log (first copy only)."""
    tracker = root / TRACKER_FILE
    if not tracker.is_file():
        return False
    text = tracker.read_text(encoding="utf-8")
    entry = (
        f"| {today.isoformat()} | Repository created from the course template for {answers.get('plant_name')} "
        f"({answers.get('plant_code')}), cohort {answers.get('cohort')}. |"
    )
    if entry in text or TRACKER_LOG_HEADING not in text:
        return False
    tracker.write_text(text.rstrip("\n") + "\n" + entry + "\n", encoding="utf-8")
    return True


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=60)


def inside_git_work_tree(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
    except (OSError, subprocess.SubprocessError):
        return False


def fallback_identity(root: Path, answers: dict[str, Any]) -> dict[str, str]:
    """The identity settings git lacks, from the answers (empty when the user's own name and email are set).

    The user's git identity (global, local or GIT_AUTHOR_* / EMAIL in the environment) always wins; only a
    missing part is filled in, for the first commit alone (``git -c``), never written to a config file.
    """
    missing: dict[str, str] = {}
    for key, env_vars in (("user.name", ("GIT_AUTHOR_NAME",)), ("user.email", ("GIT_AUTHOR_EMAIL", "EMAIL"))):
        if any(os.environ.get(var) for var in env_vars) or _git(root, "config", "--get", key).stdout.strip():
            continue
        if key == "user.name":
            missing[key] = str(answers.get("student_name") or "Capstone student")
        else:
            missing[key] = f"{answers.get('github_username') or 'student'}@users.noreply.github.com"
    return missing


def init_git_repo(root: Path, answers: dict[str, Any]) -> str:
    """``git init`` and a first commit, unless git is missing or ``root`` already is in a repository."""
    if shutil.which("git") is None:
        return "git is not installed: run `git init` yourself before your first commit"
    if inside_git_work_tree(root):
        return "already inside a git repository: left as it is"
    message = "Start the capstone from the course template"
    steps = (
        ("init", ("init", "--quiet")),
        ("symbolic-ref", ("symbolic-ref", "HEAD", "refs/heads/main")),
        # Every file over core.bigFileThreshold is streamed into one pack instead of a loose object
        # file each: the same objects, a fifth of the time on a file system where creating files is
        # slow (1,449 files: 0.85 s -> 0.17 s here). The setting lasts for this command only.
        ("add", ("-c", "core.bigFileThreshold=1", "add", "--all")),
    )
    for label, args in steps:
        result = _git(root, *args)
        if result.returncode != 0:
            return f"`git {label}` failed: {result.stderr.strip()}"
    fallback = fallback_identity(root, answers)
    identity = [arg for key, value in fallback.items() for arg in ("-c", f"{key}={value}")]
    result = _git(root, *identity, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", message)
    if result.returncode != 0:
        return f"`git commit` failed: {(result.stderr or result.stdout).strip()}"
    if fallback:
        return (
            f"initialised a git repository with a first commit (git has no {' or '.join(fallback)} set, so that "
            "commit used your answers; set yours with `git config --global user.name ...` and `user.email ...`)"
        )
    return "initialised a git repository with a first commit"


def placeholder_warnings(answers: dict[str, Any]) -> list[str]:
    """A warning for each personal answer that still holds its placeholder default."""
    return [
        f"warning: {name} is still the placeholder {value!r} (README, model card, CODEOWNERS): run "
        f"`copier update --trust --data {name}=...` with your own"
        for name, value in PLACEHOLDERS.items()
        if str(answers.get(name, "")).strip().lower() == value.lower()
    ]


def _answers_commit(root: Path) -> str | None:
    """``_commit`` of the copier answers file (the course release this repository was rendered from)."""
    try:
        text = (root / ANSWERS_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"(?m)^_commit:\s*['\"]?([^'\"\s]+)", text)
    return found.group(1) if found else None


def check_grader_pin(root: Path) -> str | None:
    """A warning when the graders' pin names another release than the one the answers file records.

    Both come from the same course release (the build renders the pin at each tag), so a difference
    means the student edited the pin or a merge kept an old line; the file is never rewritten here.
    """
    commit = _answers_commit(root)
    try:
        pin = (root / GRADERS_REQUIREMENTS).read_text(encoding="utf-8")
    except OSError:
        return None
    if commit is None or not re.fullmatch(r"v\d+(\.\d+)*", commit):  # not a release tag (v1.2.0-3-gabc...)
        return None
    pinned = re.findall(r"(?m)^[^#\n]*@(v[\w.+-]+)\s*$", pin)
    if pinned == [commit]:
        return None
    shown = ", ".join(pinned) or "no release"
    return (
        f"warning: {GRADERS_REQUIREMENTS} pins the graders at {shown}, but this repository is at the course release "
        f"{commit} (.copier-answers.yml): `make grade` and Classroom install what that file says; restore the "
        f"course's line (`git diff {GRADERS_REQUIREMENTS}`) unless your instructor told you otherwise"
    )


def post_generate(
    root: Path,
    answers: dict[str, Any],
    tool: str,
    operation: str,
    today: dt.date,
    course_data: Path | None = None,
    template: Path | None = None,
) -> list[str]:
    """Run the steps that apply to this tool and operation; return what was done, for the log.

    ``template`` is the folder cookiecutter rendered (copier's task passes none).
    """
    done = []
    if course_data is not None and course_data.is_dir():
        copied = copy_course_data(root, course_data)
        if copied:
            done.append(f"copied {len(copied)} course data files ({', '.join(COURSE_DATA_PATHS)})")
    elif operation == "copy":
        missing = [folder for folder in COURSE_DATA_PATHS if not (root / folder).exists()]
        if missing:
            where = f"{course_data} does not exist" if course_data else "the tool did not say where the template is"
            done.append(
                f"warning: the course data ({', '.join(missing)}) was not copied: {where}; copy those folders "
                f"from the template's {COURSE_DATA_DIR}/ folder into this repository (cookiecutter needs 2.2 or later)"
            )
    if tool == "cookiecutter":
        strip_template_suffix(root)
        remove_empty_answers_file(root)
        if operation == "copy":
            done.append(write_copier_answers(root, answers, template))
    gpu = answers.get("gpu_variant")
    if gpu is False or str(gpu).lower() in ("false", "no", "n", "0", "off"):
        removed = remove_gpu_files(root)
        if removed:
            done.append(f"removed GPU-only files: {', '.join(p.relative_to(root).as_posix() for p in removed)}")
    pin = check_grader_pin(root)
    if pin:
        done.append(pin)
    if operation == "copy":
        if stamp_progress_tracker(root, answers, today):
            done.append(f"started the log in {TRACKER_FILE}")
        done.append(init_git_repo(root, answers))
    done.extend(placeholder_warnings(answers))
    return done


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Finish a generated capstone repository.")
    parser.add_argument("--tool", choices=["copier", "cookiecutter"], default="cookiecutter")
    parser.add_argument("--operation", default="copy", help="copier's _copier_operation: copy or update")
    parser.add_argument("--answers", help="the answers as JSON (copier); cookiecutter renders them into this file")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the generated repository (default: .)")
    parser.add_argument("--course-data", type=Path, help="the folder to copy COURSE_DATA_PATHS from (copier's task)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.answers is not None:
        answers = json.loads(args.answers)
    elif "cookiecutter |" not in RENDERED_ANSWERS:
        answers = json.loads(RENDERED_ANSWERS)
    else:
        print("post_gen_project.py: no answers given (pass --answers JSON)", file=sys.stderr)
        return 2
    course_data, template = args.course_data, None
    if answers.get("_repo_dir"):  # cookiecutter: its template folder, the course data beside the payload
        template = cookiecutter_template_dir(str(answers["_repo_dir"]), answers.get("_output_dir"))
        if course_data is None and template is not None:
            course_data = template / COURSE_DATA_DIR
    root = args.root.resolve()
    for line in post_generate(root, answers, args.tool, args.operation, dt.date.today(), course_data, template):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
