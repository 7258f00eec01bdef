"""The shell steps the workflow and the Job share: list the class, clone one shard, grade it."""

from __future__ import annotations

import shlex

from graders.instructor.classroom import apt_packages


def list_repositories(names_file: str) -> str:
    """Write the names of the org's repositories that start with ``$PREFIX-`` to ``names_file``."""
    return (
        'gh repo list "$ORG" --limit 10000 --json name --jq ".[].name" '
        f"| awk -v p=\"$PREFIX-\" 'index($0, p) == 1' | sort > {names_file}\n"
        f'echo "$(wc -l < {names_file}) repositories named $PREFIX-* in $ORG"\n'
    )


def clone_shard(names_file: str, shard: str, shards: int, dest: str) -> str:
    """Clone (shallow) the repositories of shard ``shard`` of ``shards`` into ``dest``."""
    return (
        f"mkdir -p {dest}\n"
        f"capstone gradebook shard {shard}/{shards} < {names_file} > shard-names.txt\n"
        "while read -r name; do\n"
        f'  gh repo clone "$ORG/$name" "{dest}/$name" -- --depth 1 --quiet\n'
        "done < shard-names.txt\n"
    )


STUDENT_ENV = "\"$HOME/student-env\""  # absolute: the Job changes folder before grading


def student_environment(requirement: str) -> str:
    """A virtual environment with the students' dependency set (torch, MLflow, FastAPI ...), made once per
    shard: the checks run each student's programs with its interpreter (``--python``), never the graders'."""
    return (
        f"python -m venv {STUDENT_ENV}\n"
        f"{STUDENT_ENV}/bin/python -m pip install --quiet --upgrade pip\n"
        f"{STUDENT_ENV}/bin/python -m pip install --quiet {shlex.quote(requirement)}\n"
    )


def grade_shard(dest: str, shard: str, shards: int, output: str, jobs: int, timeout_s: float) -> str:
    return (
        f"capstone grade-batch {dest} --shard {shard}/{shards} --jobs {jobs} --timeout {timeout_s:g} "
        f"--python {STUDENT_ENV}/bin/python --output {output}\n"
    )


def apt_install(sudo: bool, extra: tuple[str, ...] = ()) -> str:
    """Install the Debian-packaged tools the checks run (and ``extra`` packages: git, gh in a bare image)."""
    prefix = "sudo " if sudo else ""
    packages = " ".join(shlex.quote(p) for p in [*extra, *apt_packages()])
    return (
        f"{prefix}apt-get update -qq\n"
        f"{prefix}apt-get install -y -qq --no-install-recommends {packages}\n"
    )
