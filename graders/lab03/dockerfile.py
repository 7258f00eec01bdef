"""A Dockerfile as build stages, for the structural checks (multi-stage, USER, HEALTHCHECK ...).

Parsing is dockerfile-parse's (line continuations, comments, parser directives; BuildKit heredoc
bodies are hidden from it, see ``heredocs.py``); this module only groups its instructions into stages
and follows ``FROM <stage>`` so that an instruction inherited from an earlier stage (a HEALTHCHECK in
``base``) counts for the stages built on it.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser

from graders.lab03 import heredocs

SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH)", re.IGNORECASE
)
# Names that carry a path, a switch or a setting about the secret, not the secret itself.
SECRET_NAME_ALLOWED = re.compile(
    r"(_FILE|_PATH|_DIR|_ID|_URL_FILE|_MODE|_ENABLED|_TTL|_TYPE|_BACKEND|_ALGORITHM|_ISSUER|_AUDIENCE|_HEADER)$",
    re.IGNORECASE,
)
# A value that is a secret whatever its name: a URL with user:password@, or a token of a known format
# (GitHub, GitLab, AWS access key, OpenAI-style and Slack tokens, Google API keys).
CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/@:]+:[^\s/@]+@", re.IGNORECASE)
TOKEN_VALUE = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{16,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|"
    r"xox[abprs]-[\w-]{10,}|AIza[\w-]{35})"
)
_VAR = r"\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}?"
# Where a RUN uses a variable as a credential: the user part of a URL, an Authorization or token
# header, a password or token option.
SECRET_USES = (
    re.compile(r"://[^\s/@]*" + _VAR + r"[^\s/@]*@"),
    re.compile(r"(?i)(authorization|private-token|x-api-key|token)\s*:[^\n]*?" + _VAR),
    re.compile(r"(?i)(--password|--token|--api-key|-p)[= ]\s*[\"']?" + _VAR),
)
REMOTE_SOURCE = re.compile(r"^(https?://|git@|git://|ssh://)", re.IGNORECASE)
ROOT_USERS = ("root", "0")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int  # 1-based first line
    flags: tuple[str, ...] = ()

    @property
    def arguments(self) -> str:
        """The value without leading ``--flag`` options."""
        return strip_flags(self.value)[1]


@dataclass
class Stage:
    index: int
    base: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def find(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def strip_flags(value: str) -> tuple[tuple[str, ...], str]:
    flags = []
    rest = value.strip()
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        flags.append(token)
        rest = rest.strip()
    return tuple(flags), rest


@dataclass
class Dockerfile:
    path: str
    stages: list[Stage]
    global_args: list[Instruction]

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage(self, ref: str) -> Stage | None:
        for stage in self.stages:
            if stage.name and stage.name.lower() == ref.lower():
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built ``FROM``, nearest first."""
        chain = [stage]
        seen = {stage.index}
        current = stage
        while True:
            parent = self.stage(current.base)
            if parent is None or parent.index in seen or parent.index >= current.index:
                return chain
            chain.append(parent)
            seen.add(parent.index)
            current = parent

    def effective(self, stage: Stage, keyword: str) -> Instruction | None:
        """The last ``keyword`` instruction in force in ``stage`` (inherited from parent stages too)."""
        for member in self.lineage(stage):
            found = member.find(keyword)
            if found:
                return found[-1]
        return None

    def all_instructions(self) -> list[Instruction]:
        return self.global_args + [i for s in self.stages for i in s.instructions]


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    # dockerfile-parse reads each heredoc body line as an instruction: hide the bodies from it.
    parser = DockerfileParser(fileobj=io.BytesIO(heredocs.without_bodies(text).encode("utf-8")))
    stages: list[Stage] = []
    global_args: list[Instruction] = []
    for item in parser.structure:
        keyword = str(item["instruction"]).upper()
        if keyword == "COMMENT":
            continue
        value = str(item["value"])
        flags, _ = strip_flags(value)
        instruction = Instruction(keyword, value, int(item["startline"]) + 1, flags)
        if keyword == "FROM":
            _, rest = strip_flags(value)
            words = rest.split()
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(len(stages), base, name, instruction.line))
        elif stages:
            stages[-1].instructions.append(instruction)
        elif keyword == "ARG":
            global_args.append(instruction)
    return Dockerfile(path, stages, global_args)


def user_of(instruction: Instruction | None) -> str:
    """The user part of ``USER user[:group]`` ("root" when there is no USER at all)."""
    if instruction is None:
        return "root"
    return instruction.arguments.split(":", 1)[0].strip() or "root"


def healthcheck_disabled(instruction: Instruction) -> bool:
    return instruction.arguments.strip().upper() == "NONE"


def env_pairs(instruction: Instruction) -> list[tuple[str, str | None]]:
    """``ENV``/``ARG`` assignments as (name, value) pairs (``ENV KEY value`` legacy form too)."""
    text = instruction.arguments
    if instruction.keyword == "ENV" and "=" not in text.split(" ", 1)[0]:
        name, _, value = text.partition(" ")
        return [(name, value.strip())]
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        words = text.split()
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, value = word.partition("=")
        pairs.append((name, value if sep else None))
    return pairs


def secret_assignments(dockerfile: Dockerfile) -> list[tuple[Instruction, str]]:
    """ENV/ARG instructions that put a secret into the image or its history, judged three ways: the
    name says so (``ARG NPM_TOKEN``), the value is one (credentials in a URL, a known token format),
    or a RUN uses the variable as one (in a URL's user part, an Authorization header, a password flag)."""
    used_as_secret = _secret_uses(dockerfile)
    found = []
    for instruction in dockerfile.all_instructions():
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in env_pairs(instruction):
            if _secret_value(value) or name in used_as_secret:
                found.append((instruction, name))
                continue
            if not SECRET_NAME.search(name) or SECRET_NAME_ALLOWED.search(name):
                continue
            if instruction.keyword == "ARG" or (value not in (None, "") and not value.startswith("/run/secrets/")):
                found.append((instruction, name))
    return found


def _secret_value(value: str | None) -> bool:
    return bool(value) and bool(CREDENTIAL_URL.search(value or "") or TOKEN_VALUE.search(value or ""))


def _secret_uses(dockerfile: Dockerfile) -> set[str]:
    """Names of variables a RUN passes as a credential."""
    names: set[str] = set()
    for run in (i for i in dockerfile.all_instructions() if i.keyword == "RUN"):
        for pattern in SECRET_USES:
            names.update(m.group("name") for m in pattern.finditer(run.value))
    return names


def remote_adds(dockerfile: Dockerfile) -> list[Instruction]:
    found = []
    for instruction in dockerfile.all_instructions():
        if instruction.keyword != "ADD":
            continue
        try:
            words = shlex.split(instruction.arguments)
        except ValueError:
            words = instruction.arguments.split()
        if words and words[0].startswith("["):  # JSON form
            words = re.findall(r'"([^"]*)"', instruction.arguments)
        if any(REMOTE_SOURCE.match(w) for w in words[:-1]):
            found.append(instruction)
    return found


def copied_sources(instruction: Instruction) -> list[str]:
    try:
        words = shlex.split(instruction.arguments)
    except ValueError:
        words = instruction.arguments.split()
    if words and words[0].startswith("["):
        words = re.findall(r'"([^"]*)"', instruction.arguments)
    return words[:-1]


def copies_from_stage(dockerfile: Dockerfile, stage: Stage) -> list[Instruction]:
    """``COPY --from=<earlier stage>`` instructions of ``stage`` (images by name do not count)."""
    found = []
    for instruction in stage.find("COPY"):
        for flag in instruction.flags:
            if flag.startswith("--from="):
                source = dockerfile.stage(flag.split("=", 1)[1])
                if source is not None and source.index < stage.index:
                    found.append(instruction)
    return found
