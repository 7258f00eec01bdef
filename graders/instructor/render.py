"""Rendering the template with copier or cookiecutter, the way students do, from a local source.

The source is staged into a folder of its own (copier.yml, template/, hooks/): rendering then does
not depend on git state (copier would otherwise render the last tag, or warn about a dirty tree).
Staging hard-links the checkout's files where the file system allows (the tools only read them).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graders.instructor import build as build_mod
from graders.instructor.copier_config import load_hook

ANSWERS_FILE = ".copier-answers.yml"


class RenderError(Exception):
    """Rendering failed; the message says why (a wrong answer states the rule it breaks)."""


def questions(kit_root: Path = build_mod.KIT_ROOT) -> tuple[Any, ...]:
    return tuple(load_hook(kit_root / "hooks", "pre_gen_project").QUESTIONS)


def example_answers(kit_root: Path = build_mod.KIT_ROOT) -> dict[str, Any]:
    """The reference solution's answers (the example plant; the personal defaults are placeholders)."""
    return {q.name: q.example_value for q in questions(kit_root)}


def parse_data(pairs: list[str], kit_root: Path = build_mod.KIT_ROOT) -> dict[str, Any]:
    """``KEY=VALUE`` strings as answers; an unknown key or a bad boolean is an error naming it."""
    known = {q.name: q for q in questions(kit_root)}
    hook = load_hook(kit_root / "hooks", "pre_gen_project")
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RenderError(f"--data {pair!r}: expected KEY=VALUE, e.g. --data plant_code=MTY02")
        if key not in known:
            raise RenderError(f"--data {key}: not a question of the template; known: {', '.join(known)}")
        if known[key].kind == "bool":
            parsed = hook.as_bool(value)
            if parsed is None:
                raise RenderError(f"--data {key}={value}: expected yes or no")
            data[key] = parsed
        else:
            data[key] = value
    return data


def check_destination(dest: Path) -> None:
    """Refuse a destination that exists and is not an empty folder."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        kind = "folder" if dest.is_dir() else "file"
        raise RenderError(
            f"{dest}: the destination exists and is a non-empty {kind}; choose a new or empty folder "
            "(to update an existing capstone, run `copier update --trust` inside it)"
        )


def validate(answers: dict[str, Any], kit_root: Path = build_mod.KIT_ROOT) -> None:
    """Raise RenderError with every problem the template's rules find in ``answers``."""
    hook = load_hook(kit_root / "hooks", "pre_gen_project")
    problems = hook.check_answers(answers)
    if problems:
        raise RenderError("\n".join(problems))


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link (a thousand files stage in milliseconds), or a copy across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@contextlib.contextmanager
def staged_source(kit_root: Path = build_mod.KIT_ROOT, result: build_mod.BuildResult | None = None) -> Iterator[Path]:
    """A temporary copy of the template source: the checkout's template/, or ``result`` when given."""
    with tempfile.TemporaryDirectory(prefix="capstone-template-") as tmp:
        dest = Path(tmp) / "source"
        if result is None:
            shutil.copytree(kit_root / "template", dest / "template", copy_function=_link_or_copy)
            shutil.copy2(kit_root / "copier.yml", dest / "copier.yml")
            shutil.copytree(kit_root / "hooks", dest / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
        else:
            build_mod.stage_template(kit_root, dest, result)
        yield dest


class _Captured:
    """What the tools and their hooks wrote while silenced (read it after the ``with`` block)."""

    text = ""


@contextlib.contextmanager
def _quiet() -> Iterator[_Captured]:
    """Silence the tools and the hooks they run: subprocesses write to file descriptors 1 and 2 directly."""
    sys.stdout.flush()
    sys.stderr.flush()
    captured = _Captured()
    with tempfile.TemporaryFile() as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                warnings.simplefilter("ignore")
                yield captured
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", errors="replace")


@contextlib.contextmanager
def _loud() -> Iterator[_Captured]:
    yield _Captured()


def render_copier(
    source: Path, dest: Path, answers: dict[str, Any], skip_tasks: bool = False, quiet: bool = True
) -> Path:
    """``copier copy --trust --defaults`` of ``source`` into ``dest`` with ``answers``.

    With ``skip_tasks`` (no git repository, no progress-tracker entry) the course data that the task
    copies is still copied, so the tree is the whole project.
    """
    import copier

    full = {**example_answers(source), **answers}
    try:
        with _quiet() if quiet else _loud():
            copier.run_copy(
                str(source),
                str(dest),
                data=full,
                defaults=True,
                unsafe=True,
                quiet=quiet,
                skip_tasks=skip_tasks,
                overwrite=False,
            )
    except ValueError as exc:  # copier reports a failed validator as ValueError
        raise RenderError(str(exc)) from None
    if skip_tasks:
        post = load_hook(source / "hooks", "post_gen_project")
        post.copy_course_data(dest, source / "template" / post.COURSE_DATA_DIR)
    return dest


def render_cookiecutter(
    source: Path, output_dir: Path, answers: dict[str, Any], accept_hooks: bool = True, quiet: bool = True
) -> Path:
    """``cookiecutter --no-input`` of ``source/template`` into ``output_dir``; returns the project folder."""
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    with tempfile.TemporaryDirectory(prefix="capstone-cookiecutter-") as home:
        config = {"replay_dir": str(Path(home) / "replay"), "cookiecutters_dir": str(Path(home) / "cc")}
        try:
            with _quiet() if quiet else _loud() as said:
                project = cookiecutter(
                    str(source / "template"),
                    no_input=True,
                    extra_context={**example_answers(source), **answers},
                    output_dir=str(output_dir),
                    accept_hooks=accept_hooks,
                    default_config=config,
                )
        except FailedHookException as exc:
            problems = [line.removeprefix("error: ") for line in said.text.splitlines() if line.startswith("error: ")]
            reason = "; ".join(problems) or str(exc)
            raise RenderError(f"cookiecutter's pre-generation check refused the answers: {reason}") from None
        except ValueError as exc:  # cookiecutter checks a choice answer against its list itself
            raise RenderError(str(exc)) from None
    return Path(project)


def read_answers(repo: Path) -> dict[str, Any]:
    """The answers recorded in a generated repository's copier answers file."""
    import yaml

    path = repo / ANSWERS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return data if isinstance(data, dict) else {}


def record_source(repo: Path, kit_root: Path) -> None:
    """Point the answers file at the kit checkout (copier recorded the temporary staging folder)."""
    path = repo / ANSWERS_FILE
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fixed = [f"_src_path: {kit_root}\n" if line.startswith("_src_path:") else line for line in lines]
    path.write_text("".join(fixed), encoding="utf-8")
    _amend_first_commit(repo, ANSWERS_FILE)


def _amend_first_commit(repo: Path, rel: str) -> None:
    """Fold ``rel`` into the repository's first commit (made by the hook), so the new repo starts clean."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=60)

    try:
        if git("rev-list", "--count", "HEAD").stdout.strip() != "1":
            return  # no repository, or not the one the hook just made
        author = git("log", "-1", "--format=%an%n%ae").stdout.splitlines()
        identity = ["-c", f"user.name={author[0]}", "-c", f"user.email={author[1]}", "-c", "commit.gpgsign=false"]
        if git("add", "--", rel).returncode == 0:
            git(*identity, "commit", "--quiet", "--amend", "--no-edit", "--no-verify")
    except (OSError, subprocess.SubprocessError, IndexError):
        return  # the answers file is right; only the commit is left to the user
