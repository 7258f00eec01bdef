"""Lab 03 checks of the Dockerfiles: structure, hardening, secrets, hadolint and checkov."""

from __future__ import annotations

from pathlib import Path

from graders.lab03 import dockerfile as df
from graders.lab03 import healthcheck as hc
from graders.lab03.dockerignore import DockerIgnore
from graders.lab03.linters import Finding
from graders.lab03.scoring import security_gate
from graders.lab03.sections import HARDENING, MULTI_STAGE, SCANNING, SECRETS
from graders.sdk import Checklist, Submission, check, fail, partial
from graders.sdk.server import free_port

HADOLINT_WARNING_COST = 0.2
CHECKOV_FAILURE_COST = 0.5
# Files that must never reach the build context (and so never a layer).
MUST_BE_IGNORED = (".env", ".env.prod", "secrets/database_url.txt")


@check(points=6, name="Multi-stage build: dependencies built in a stage the runtime copies from", section=MULTI_STAGE)
def test_dockerfile_multi_stage(dockerfiles: dict[str, df.Dockerfile], checklist: Checklist) -> None:
    for rel, parsed in dockerfiles.items():
        final = parsed.final
        if final is None:
            checklist.require(False, f"{rel} has no FROM instruction", rel)
            continue
        checklist.require(
            len(parsed.stages) >= 2,
            f"{rel} has {len(parsed.stages)} stage; build dependencies in a stage of their own "
            "(`FROM ... AS dependencies`) and start the runtime stage from a clean base",
            f"{rel}:{final.line}",
        )
        checklist.require(
            bool(df.copies_from_stage(parsed, final)),
            f"{rel}: the final stage (line {final.line}) copies nothing from an earlier stage; "
            "`COPY --from=dependencies /opt/venv /opt/venv` brings in what the build stage installed",
            f"{rel}:{final.line}",
        )


@check(points=5, name="The final stage runs as a non-root USER", section=HARDENING)
def test_dockerfile_non_root_user(dockerfiles: dict[str, df.Dockerfile], checklist: Checklist) -> None:
    for rel, parsed in dockerfiles.items():
        final = parsed.final
        if final is None:
            continue
        user = parsed.effective(final, "USER")
        name = df.user_of(user)
        where = f"{rel}:{user.line}" if user else f"{rel}:{final.line}"
        checklist.require(
            name not in df.ROOT_USERS,
            f"{rel}: the final stage runs as {name!r}"
            + ("" if user else " (no USER instruction)")
            + "; create an unprivileged user and end with `USER 10001:10001`",
            where,
        )
    security_gate(checklist)


@check(
    points=4, name="The image's HEALTHCHECK passes against the running API and fails when it is down", section=HARDENING
)
def test_dockerfile_healthcheck(
    dockerfiles: dict[str, df.Dockerfile],
    api_port: tuple[int, str],
    student_python: str,
    tmp_path: Path,
    checklist: Checklist,
) -> None:
    port, note = api_port
    for rel, parsed in dockerfiles.items():
        final = parsed.final
        if final is None:
            continue
        probe = hc.healthcheck(parsed, final)
        if probe is None or not probe.argv:
            checklist.require(
                False,
                f"{rel}: the final stage has no usable HEALTHCHECK; add one that calls the API's /healthz "
                '(e.g. `HEALTHCHECK CMD ["python", "-c", "...urlopen(\'http://127.0.0.1:8080/healthz\')..."]`)',
                f"{rel}:{probe.line if probe else final.line}",
            )
            continue
        where = f"{rel}:{probe.line}"
        absent = hc.missing_tools(parsed, final, probe)
        if absent:
            checklist.require(
                False,
                f"{where}: the HEALTHCHECK calls {', '.join(absent)}, which the image ({final.base}) does not have, so "
                "Docker marks the container unhealthy forever; use the image's python (urllib.request) or install it",
                where,
            )
            continue
        container = hc.container_port(parsed, final)
        work = tmp_path / rel.replace("/", "_")
        healthy = hc.run_against(probe, container, port, student_python, work)
        checklist.require(
            healthy.ok,
            f"{where}: the HEALTHCHECK `{probe.text}` exits {healthy.returncode}"
            + (" (timed out)" if healthy.timed_out else "")
            + f" against the running API (port {container} of the image){'; ' + note if note else ''}: it must call "
            f"/healthz on the port the server listens on (`{container}`). Output: {healthy.tail(5) or 'none'}",
            where,
        )
        down = hc.run_against(probe, container, free_port(), student_python, work)
        checklist.require(
            not down.ok,
            f"{where}: the HEALTHCHECK `{probe.text}` succeeds even when nothing answers on port {container}; it "
            "must exit non-zero when /healthz does not answer 200, or an outage never shows",
            where,
        )


@check(points=3, name="No ADD of remote URLs", section=MULTI_STAGE)
def test_dockerfile_no_remote_add(dockerfiles: dict[str, df.Dockerfile]) -> None:
    problems = [(rel, i) for rel, parsed in dockerfiles.items() for i in df.remote_adds(parsed)]
    if problems:
        rel, first = problems[0]
        listed = "; ".join(f"{r}:{i.line} ADD {' '.join(df.copied_sources(i))}" for r, i in problems)
        fail(
            f"ADD downloads a URL without verifying it ({listed}); download in a RUN step and check a "
            "pinned sha256, or install the tool from a pinned package instead",
            f"{rel}:{first.line}",
        )


@check(points=5, name="No secrets in ENV, ARG or the build context", section=SECRETS)
def test_dockerfile_no_secrets(submission: Submission, dockerfiles: dict[str, df.Dockerfile]) -> None:
    # One leaked secret is as bad as three: any finding fails the whole check.
    problems: list[tuple[str, str]] = []
    baked = [(rel, i, name) for rel, parsed in dockerfiles.items() for i, name in df.secret_assignments(parsed)]
    if baked:
        problems.append(
            (
                "; ".join(f"{rel}:{i.line} {i.keyword} {name}" for rel, i, name in baked)
                + " bake(s) a secret into the image (ENV) or its history (ARG), by its name, its value or how a "
                "RUN uses it; mount it at build time (`RUN --mount=type=secret,id=...`) or pass it at run time "
                "as a compose secret file",
                f"{baked[0][0]}:{baked[0][1].line}",
            )
        )
    copied = [
        (rel, i, source)
        for rel, parsed in dockerfiles.items()
        for i in parsed.all_instructions()
        if i.keyword in ("COPY", "ADD")
        for source in df.copied_sources(i)
        if source.lstrip("./").startswith((".env", "secrets"))
    ]
    if copied:
        problems.append(
            (
                "; ".join(f"{rel}:{i.line} copies {source}" for rel, i, source in copied)
                + " into the image; secrets stay out of layers",
                f"{copied[0][0]}:{copied[0][1].line}",
            )
        )
    if not submission.is_file(".dockerignore"):
        missing = ".dockerignore is missing: exclude .env files and secrets/ from the build context"
        problems.append((missing, ".dockerignore"))
    else:
        ignore = DockerIgnore.parse(submission.read_text(".dockerignore"))
        leaking = [path for path in MUST_BE_IGNORED if not ignore.excludes(path)]
        if leaking:
            problems.append(
                (
                    f".dockerignore lets {', '.join(leaking)} into the build context; exclude .env* files and "
                    "the secrets/ folder",
                    ".dockerignore",
                )
            )
    if problems:
        fail("\n".join(message for message, _ in problems), problems[0][1])


def _listed(findings: list[Finding], limit: int = 6) -> str:
    shown = [f"- {f.describe()}" for f in findings[:limit]]
    if len(findings) > limit:
        shown.append(f"- ... and {len(findings) - limit} more")
    return "\n".join(shown)


@check(points=3, name="hadolint: no errors, few warnings", section=MULTI_STAGE)
def test_dockerfile_hadolint(hadolint_findings: list[Finding]) -> None:
    errors = [f for f in hadolint_findings if f.level == "error"]
    warnings = [f for f in hadolint_findings if f.level == "warning"]
    notes = [f for f in hadolint_findings if f.level == "note"]
    noted = "".join(f"\nNote: {f.describe()}" for f in notes)
    if errors:
        fail(
            f"hadolint reports {len(errors)} error(s) (errors score zero; the grader ignores "
            f"`# hadolint ignore` comments):\n{_listed(errors + warnings)}{noted}",
            f"{errors[0].file}:{errors[0].line}",
        )
    if warnings:
        partial(
            max(0.0, 1.0 - HADOLINT_WARNING_COST * len(warnings)),
            f"hadolint reports {len(warnings)} warning(s), each costing {HADOLINT_WARNING_COST:.0%} of this check:\n"
            f"{_listed(warnings)}{noted}",
            f"{warnings[0].file}:{warnings[0].line}",
        )
    if notes:
        partial(1.0, noted.strip(), f"{notes[0].file}:{notes[0].line}")


@check(points=4, name="checkov's Dockerfile checks pass", section=SCANNING)
def test_dockerfile_checkov(checkov_findings: list[Finding]) -> None:
    if checkov_findings:
        partial(
            max(0.0, 1.0 - CHECKOV_FAILURE_COST * len(checkov_findings)),
            f"checkov's Dockerfile checks fail {len(checkov_findings)} time(s), each costing "
            f"{CHECKOV_FAILURE_COST:.0%} of this check:\n{_listed(checkov_findings)}",
            f"{checkov_findings[0].file}:{checkov_findings[0].line}",
        )
