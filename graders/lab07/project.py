"""The student's Terraform project, read once per grading run and shared by the checks.

Every ``.tf``, ``.tfvars`` and ``.tfbackend`` file under ``terraform/`` is parsed into conftest's
input shape (see :mod:`graders.lab07.hcl`); files that do not parse are kept as errors with their
line, so one broken file does not hide the rest of the project from the other checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graders.lab07.hcl import HclDocument, HclSyntaxError, parse
from graders.sdk import Submission, SubmissionFileError, fail

TERRAFORM_DIR = "terraform"
MODULES_DIR = f"{TERRAFORM_DIR}/modules"
ENVIRONMENTS_DIR = f"{TERRAFORM_DIR}/environments"
HCL_SUFFIXES = (".tf", ".tfvars", ".tfbackend")
# The module the lab's assignment asks for, and the modules the reference provides.
ASSIGNMENT_MODULE = "gcs"
MODULES = ("cloud_run", "cloud_sql", "gcs", "pubsub")
ENVIRONMENTS = ("staging", "prod")
STUDENT_POLICY_DIR = "policy"


@dataclass(frozen=True)
class Block:
    """A labelled block (``variable "x"``, ``module "x"``, ``output "x"``) and where it is."""

    name: str
    body: dict[str, Any]
    document: HclDocument
    kind: str

    @property
    def location(self) -> str:
        return self.document.location(self.kind, self.name)

    def attribute_location(self, attribute: str) -> str:
        return self.document.location(self.kind, self.name, attribute)


@dataclass
class TerraformProject:
    documents: dict[str, HclDocument] = field(default_factory=dict)
    errors: list[HclSyntaxError] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # every readable HCL file, parsed or not
    unreadable: list[SubmissionFileError] = field(default_factory=list)

    # -- files ---------------------------------------------------------------------------------
    def in_folder(self, folder: str, suffix: str = ".tf") -> list[HclDocument]:
        """Parsed files directly in ``folder`` (not below it) with ``suffix``."""
        return [
            doc
            for path, doc in sorted(self.documents.items())
            if path.rsplit("/", 1)[0] == folder and path.endswith(suffix)
        ]

    @property
    def root(self) -> list[HclDocument]:
        return self.in_folder(TERRAFORM_DIR)

    def module(self, name: str) -> list[HclDocument]:
        return self.in_folder(f"{MODULES_DIR}/{name}")

    def module_folders(self) -> list[str]:
        folders = {path.split("/")[2] for path in self.documents if path.startswith(MODULES_DIR + "/")}
        folders |= {e.path.split("/")[2] for e in self.errors if e.path.startswith(MODULES_DIR + "/")}
        return sorted(folders)

    def environment(self, name: str) -> HclDocument | None:
        return self.documents.get(f"{ENVIRONMENTS_DIR}/{name}.tfvars")

    # -- blocks ----------------------------------------------------------------------------------
    @staticmethod
    def blocks(documents: list[HclDocument], kind: str) -> Iterator[Block]:
        """``variable``/``output``/``module`` blocks: ``{kind: {name: [body, ...]}}`` in conftest's shape."""
        for doc in documents:
            named = doc.data.get(kind)
            if not isinstance(named, dict):
                continue
            for name, bodies in named.items():
                for body in bodies if isinstance(bodies, list) else []:
                    if isinstance(body, dict):
                        yield Block(name, body, doc, kind)

    @staticmethod
    def resources(documents: list[HclDocument], resource_type: str | None = None) -> Iterator[Block]:
        for doc in documents:
            types = doc.data.get("resource")
            if not isinstance(types, dict):
                continue
            for rtype, named in types.items():
                if (resource_type is not None and rtype != resource_type) or not isinstance(named, dict):
                    continue
                for name, bodies in named.items():
                    for body in bodies if isinstance(bodies, list) else []:
                        if isinstance(body, dict):
                            yield Block(f"{rtype}.{name}", body, doc, "resource")

    @staticmethod
    def terraform_blocks(documents: list[HclDocument]) -> Iterator[tuple[dict[str, Any], HclDocument]]:
        for doc in documents:
            for body in doc.data.get("terraform") or []:
                if isinstance(body, dict):
                    yield body, doc

    def module_calls(self) -> dict[str, Block]:
        return {block.name: block for block in self.blocks(self.root, "module")}

    def calls_of(self, module: str) -> list[Block]:
        """Root module blocks whose source is ``./modules/<module>``."""
        wanted = {f"./modules/{module}", f"./modules/{module}/"}
        return [b for b in self.module_calls().values() if b.body.get("source") in wanted]

    def assignment_written(self) -> bool:
        """True once the assignment's module declares its bucket (the gate of the project-wide checks)."""
        return any(True for _ in self.resources(self.module(ASSIGNMENT_MODULE), "google_storage_bucket"))


def load_project(submission: Submission) -> TerraformProject:
    project = TerraformProject()
    for path in submission.glob(f"{TERRAFORM_DIR}/**", under=TERRAFORM_DIR):
        if not path.endswith(HCL_SUFFIXES):
            continue
        try:
            text = submission.read_text(path)
        except SubmissionFileError as exc:
            project.unreadable.append(exc)
            continue
        project.texts[path] = text
        try:
            project.documents[path] = parse(text, path)
        except HclSyntaxError as exc:
            project.errors.append(exc)
    return project


def require_assignment(project: TerraformProject) -> None:
    """Gate of the checks that grade the whole configuration: they need the student's module first.

    The rest of the configuration comes with the starter; crediting it before the student has
    written anything would grade the course's work, not the student's.
    """
    if not project.assignment_written():
        fail(
            f"Not graded yet: this check grades the configuration together with your {ASSIGNMENT_MODULE} module, "
            f"and {MODULES_DIR}/{ASSIGNMENT_MODULE} does not declare a google_storage_bucket yet. Write the module "
            "(main.tf, variables.tf, outputs.tf) and call it from terraform/main.tf",
            f"{MODULES_DIR}/{ASSIGNMENT_MODULE}",
        )
