"""The template's questions and their rules, and the answer check that runs before generation.

This file is the one source of the questions: ``capstone build`` writes copier.yml's questions and
cookiecutter.json from ``QUESTIONS``, so copier's validators and this check share each rule and its
message. Cookiecutter runs this file as its pre-generation hook (rendered with Jinja first, so the
answers arrive in ``RENDERED_ANSWERS``); it must stay standard-library only and must not hold Jinja
delimiters anywhere else.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

# Cookiecutter renders the next line to the answers as JSON; anywhere else it stays as written.
RENDERED_ANSWERS = r"""{{ cookiecutter | jsonify }}"""

EMEA_REGIONS = {
    "europe-west4": "Netherlands",
    "europe-west1": "Belgium",
    "europe-west2": "London",
    "europe-west3": "Frankfurt",
    "europe-west6": "Zurich",
    "europe-west8": "Milan",
    "europe-west9": "Paris",
    "europe-west10": "Berlin",
    "europe-west12": "Turin",
    "europe-north1": "Finland",
    "europe-central2": "Warsaw",
    "europe-southwest1": "Madrid",
    "me-west1": "Tel Aviv",
    "me-central1": "Doha",
    "africa-south1": "Johannesburg",
}
APAC_REGIONS = {
    "asia-southeast1": "Singapore",
    "asia-southeast2": "Jakarta",
    "asia-east1": "Taiwan",
    "asia-east2": "Hong Kong",
    "asia-northeast1": "Tokyo",
    "asia-northeast2": "Osaka",
    "asia-northeast3": "Seoul",
    "asia-south1": "Mumbai",
    "asia-south2": "Delhi",
    "australia-southeast1": "Sydney",
    "australia-southeast2": "Melbourne",
}


@dataclass(frozen=True)
class Question:
    """One answer the template asks for.

    ``default`` is what the tools offer: the example plant's value, except for the student's own name and
    username, whose defaults are visible placeholders (``PLACEHOLDERS``) so that nobody hands in a
    repository owned by someone else. ``example`` is the reference solution's value where it differs.
    """

    name: str
    help: str
    default: Any
    kind: str = "str"  # "str" or "bool"
    pattern: str | None = None  # the whole answer must match (re.search with ^...$)
    rule: str | None = None  # the sentence a wrong answer gets: it states the rule
    choices: dict[str, str] = field(default_factory=dict)  # value -> label
    max_length: int | None = None  # the longest answer the rule allows (the build checks lines against it)
    example: Any = None  # the reference solution's answer when ``default`` is a placeholder

    @property
    def example_value(self) -> Any:
        """The answer the reference solution is written with (the round trip renders with it)."""
        return self.default if self.example is None else self.example

    @property
    def longest(self) -> int:
        if self.choices:
            return max(len(c) for c in self.choices)
        return self.max_length if self.max_length is not None else len(str(self.default))


# Defaults of the personal answers. They pass the rules (an instructor renders the Classroom starter with
# `--defaults`), and the post-generation hook warns while an answer still holds one (its PLACEHOLDERS).
PLACEHOLDERS = {"student_name": "Your Name", "github_username": "YOUR-GITHUB-USERNAME"}

QUESTIONS: tuple[Question, ...] = (
    Question(
        "student_name",
        "Your full name, as it should appear in the README and the model card",
        PLACEHOLDERS["student_name"],
        pattern=r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ .-]{1,59}$",
        rule="2 to 60 characters: letters, spaces, hyphens and periods, starting with a letter",
        max_length=60,
        example="Jordan Rivera",
    ),
    Question(
        "github_username",
        "Your GitHub username (code owner of your repository)",
        PLACEHOLDERS["github_username"],
        pattern=r"^[A-Za-z0-9](-?[A-Za-z0-9]){0,38}$",
        rule="up to 39 letters, digits and single hyphens, not starting or ending with a hyphen (GitHub's rule)",
        max_length=39,
        example="jrivera-mfg",
    ),
    Question(
        "plant_name",
        "The plant your Copilot serves",
        "Riverbend Stamping Plant",
        pattern=r"^[A-Za-z][A-Za-z0-9 .-]{2,59}$",
        rule="3 to 60 characters: letters, digits, spaces, hyphens and periods, starting with a letter",
        max_length=60,
    ),
    Question(
        "plant_code",
        "The plant's code: three capital letters and two digits (used in equipment ids and resource names)",
        "RVB01",
        pattern=r"^[A-Z]{3}[0-9]{2}$",
        rule="three capital letters followed by two digits, e.g. RVB01",
        max_length=5,
    ),
    Question(
        "production_lines",
        "The plant's production lines, comma-separated",
        "press-1, weld-2, paint-3",
        pattern=r"^[a-z][a-z0-9-]{0,29}(, ?[a-z][a-z0-9-]{0,29}){0,9}$",
        rule="1 to 10 line ids separated by commas; each starts with a lowercase letter and holds lowercase "
        "letters, digits and hyphens, e.g. press-1, weld-2",
        max_length=318,
    ),
    Question(
        "gcp_project_id",
        "The Google Cloud project id you deploy to",
        "meridian-mfg-copilot",
        pattern=r"^(?!.*google)[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        rule="6 to 30 characters: lowercase letters, digits and hyphens, starting with a letter, not ending "
        "with a hyphen and not containing 'google' (Google Cloud's rule for project ids)",
        max_length=30,
    ),
    Question(
        "primary_region",
        "Primary Google Cloud region (EMEA), where the plant's services run",
        "europe-west4",
        choices=EMEA_REGIONS,
        rule="one of the EMEA regions: " + ", ".join(EMEA_REGIONS),
    ),
    Question(
        "secondary_region",
        "Secondary Google Cloud region (APAC), for the replica and disaster recovery",
        "asia-southeast1",
        choices=APAC_REGIONS,
        rule="one of the APAC regions: " + ", ".join(APAC_REGIONS),
    ),
    Question(
        "python_version",
        "Python version of your local environment, CI and the Classroom grader",
        "3.11",
        choices={"3.11": "Python 3.11", "3.10": "Python 3.10"},
        rule="3.10 or 3.11",
    ),
    Question(
        "gpu_variant",
        "Include the GPU variant (Dockerfile.gpu, GPU Kubernetes overlay)?",
        True,
        kind="bool",
        rule="yes or no",
    ),
    Question(
        "cohort",
        "Your cohort, e.g. 2026-fall",
        "2026-fall",
        pattern=r"^20[0-9]{2}-(spring|summer|fall|winter)$",
        rule="a year and a term: YYYY-spring, YYYY-summer, YYYY-fall or YYYY-winter, e.g. 2026-fall",
        max_length=11,
    ),
)

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def as_bool(value: Any) -> bool | None:
    """The boolean an answer means (cookiecutter may hand over 'yes'/'no' strings), or None."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def check_answer(question: Question, value: Any) -> str | None:
    """The message for a wrong answer to ``question`` (naming the value and the rule), or None."""
    if question.kind == "bool":
        ok = as_bool(value) is not None
    elif question.choices:
        ok = isinstance(value, str) and value in question.choices
    else:
        ok = isinstance(value, str) and re.search(question.pattern or "", value) is not None
    if ok:
        return None
    return f"{question.name} = {value!r} is not valid: {question.rule}."


def check_answers(answers: dict[str, Any]) -> list[str]:
    """Every problem with ``answers``, in question order (a missing answer is a problem too)."""
    problems = []
    for question in QUESTIONS:
        if question.name not in answers:
            problems.append(f"{question.name} is missing: {question.rule}.")
            continue
        message = check_answer(question, answers[question.name])
        if message:
            problems.append(message)
    return problems


def rendered_answers(text: str = RENDERED_ANSWERS) -> dict[str, Any] | None:
    """The answers cookiecutter rendered into this file, or None when it was not rendered."""
    if "cookiecutter |" in text:
        return None
    data = json.loads(text)
    return data if isinstance(data, dict) else None


def main(argv: list[str]) -> int:
    answers = json.loads(argv[1]) if len(argv) > 1 else rendered_answers()
    if answers is None:
        print("usage: pre_gen_project.py ANSWERS_JSON (cookiecutter passes the answers itself)", file=sys.stderr)
        return 2
    problems = check_answers(answers)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print("Nothing was generated. Answer again with valid values.", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
