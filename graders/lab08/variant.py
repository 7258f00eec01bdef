"""Whether a repository was generated without the GPU variant (the template's ``gpu_variant`` answer).

A student who answers ``gpu_variant = no`` gets no GPU overlay, Dockerfile or values file, so the
check for the GPU variant has nothing to grade: it gives full marks only when the answers file says
so *and* none of the GPU-only files is there. A repository that holds any of them is graded as a GPU
variant, so editing the answers file alone skips nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from graders.sdk import Submission, SubmissionFileError

ANSWERS_FILE = ".copier-answers.yml"
# The paths only the GPU variant has: hooks/post_gen_project.py's GPU_ONLY_PATHS (a kit test keeps them equal).
GPU_ONLY_PATHS = (
    "Dockerfile.gpu",
    "docker-compose.gpu.yml",
    "k8s/overlays/gpu",
    "helm/*/values-gpu.yaml",
)
_NO = {"false", "no", "n", "0", "off"}


@dataclass(frozen=True)
class GpuVariant:
    declared_off: bool  # the answers file says gpu_variant = no
    present: tuple[str, ...]  # GPU-only paths the repository holds

    @property
    def not_part_of_this_repository(self) -> bool:
        return self.declared_off and not self.present


def gpu_only_present(submission: Submission) -> tuple[str, ...]:
    found: list[str] = []
    for pattern in GPU_ONLY_PATHS:
        if any(c in pattern for c in "*?["):
            found.extend(submission.glob(pattern))
        elif submission.exists(pattern):
            found.append(pattern)
    return tuple(sorted(found))


def gpu_variant(submission: Submission) -> GpuVariant:
    """What the answers file declares and which GPU-only paths exist (an unreadable answers file declares nothing)."""
    declared_off = False
    if submission.is_file(ANSWERS_FILE):
        try:
            answers = submission.load_yaml(ANSWERS_FILE)
        except SubmissionFileError:
            answers = None
        if isinstance(answers, dict) and "gpu_variant" in answers:
            value = answers["gpu_variant"]
            declared_off = value is False or str(value).strip().lower() in _NO
    return GpuVariant(declared_off, gpu_only_present(submission))
