"""The commands of a blue/green switch procedure (``SWITCH.md``'s code, or a script), read as bash.

A procedure is judged by what its commands do, not by how they are spelt: ``kubectl -n NS patch svc X``
(a global flag before the verb), a command continued over lines with ``\\``, one inside ``&&`` or
``$(...)``, ``kubectl set selector service X color=green`` and ``kubectl apply -f service.yaml`` all
switch the Service. Code is found with markdown-it-py (fenced and indented blocks, inline code spans),
split into simple commands by :mod:`graders.sdk.bash` (tree-sitter's bash grammar, words unquoted as
bash would); kubectl's own global flags are skipped to find its verb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from markdown_it import MarkdownIt

from graders.sdk import bash

MARKDOWN_SUFFIXES = (".md", ".rst")
BLUE_GREEN_FOLDER = "k8s/blue-green"
SERVICE_TYPES = frozenset({"service", "services", "svc"})
# kubectl's global flags that take a value (`kubectl options`); written `--flag value` or `--flag=value`.
KUBECTL_VALUE_FLAGS = frozenset(
    {
        "-n",
        "--namespace",
        "--context",
        "--cluster",
        "--user",
        "--kubeconfig",
        "-s",
        "--server",
        "--token",
        "--as",
        "--as-group",
        "--as-uid",
        "--request-timeout",
        "--cache-dir",
        "--certificate-authority",
        "--client-certificate",
        "--client-key",
        "--tls-server-name",
        "-v",
        "--v",
        "--vmodule",
        "--log-file",
        "--username",
        "--password",
        "--profile",
        "--profile-output",
        "-o",
        "--output",
        "-f",
        "--filename",
        "-p",
        "--patch",
        "--type",
        "-l",
        "--selector",
        "-k",
        "--kustomize",
        "--field-manager",
        "--patch-file",
        "--subresource",
        "--dry-run",
        "--timeout",
        "-c",
        "--container",
        "--replicas",
    }
)


@dataclass(frozen=True)
class KubectlCall:
    """``kubectl [global flags] VERB [args]``: the verb path's words and the flags by name."""

    positionals: tuple[str, ...]
    flags: dict[str, list[str]] = field(hash=False)

    @property
    def verb(self) -> str:
        return self.positionals[0] if self.positionals else ""

    def files(self) -> list[str]:
        return [*self.flags.get("-f", []), *self.flags.get("--filename", [])]


def code_spans(path: str, text: str) -> list[tuple[int, int, str]]:
    """(0-based line, column, code) of every piece of shell code in a procedure file."""
    if not path.endswith(MARKDOWN_SUFFIXES):
        return [(0, 0, text)]
    lines = text.splitlines()
    spans: list[tuple[int, int, str]] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.map is None:
            continue
        if token.type in ("fence", "code_block"):
            first = token.map[0] + (1 if token.type == "fence" else 0)
            spans.append((first, 0, token.content))
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "code_inline":
                    row = next(
                        (r for r in range(token.map[0], token.map[1]) if child.content in lines[r]), token.map[0]
                    )
                    spans.append((row, max(lines[row].find(child.content), 0), child.content))
    return spans


def commands(path: str, text: str) -> list[bash.Command]:
    """Every simple command in the procedure file, in document order."""
    found = [
        command for line, column, code in code_spans(path, text) for command in bash.commands(code, (line, column))
    ]
    return sorted(found, key=lambda c: c.position)


def kubectl_call(command: bash.Command) -> KubectlCall | None:
    """The kubectl call of a command (``sudo``/``env`` prefixes allowed), or None."""
    words = list(command.argv)
    if not words or PurePosixPath(words[0]).name not in ("kubectl", "kubectl.exe"):
        return None
    positionals: list[str] = []
    flags: dict[str, list[str]] = {}
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if word == "--":
            positionals.extend(rest)
            break
        if word.startswith("-") and len(word) > 1:
            name, sep, value = word.partition("=")
            if not sep and name in KUBECTL_VALUE_FLAGS and rest:
                value = rest.pop(0)
            flags.setdefault(name, []).append(value)
        else:
            positionals.append(word)
    return KubectlCall(tuple(positionals), flags)


def _is_service(resource: str) -> bool:
    kind = resource.split("/", 1)[0].split(".", 1)[0].lower()
    return kind in SERVICE_TYPES


def switches_service(call: KubectlCall) -> bool:
    """Whether this kubectl call changes a Service (its selector is what switches the colour)."""
    args = call.positionals[1:]
    if call.verb in ("patch", "edit"):
        return bool(args and _is_service(args[0])) or any(_service_file(f) for f in call.files())
    if call.verb == "set" and args[:1] == ("selector",):
        return len(args) > 1 and _is_service(args[1])
    if call.verb in ("apply", "replace", "create"):
        folders = [*call.flags.get("-k", []), *call.flags.get("--kustomize", [])]
        return any(_service_file(f) for f in [*call.files(), *folders])
    return False


def _service_file(path: str) -> bool:
    """A manifest of the Service, or the blue/green folder (or kustomization) that holds it."""
    name = PurePosixPath(path.rstrip("/")).name.lower()
    return "service" in name or "svc" in name or name == PurePosixPath(BLUE_GREEN_FOLDER).name


def first_switch(path: str, text: str) -> bash.Command | None:
    """The first command of the procedure that switches the Service, or None."""
    for command in commands(path, text):
        call = kubectl_call(command)
        if call is not None and switches_service(call):
            return command
    return None


def selected_colours(call: KubectlCall, colours: tuple[str, ...]) -> set[str]:
    """The colours a switching call's selector names (``-p`` patch text or ``set selector`` pairs)."""
    texts = [*call.flags.get("-p", []), *call.flags.get("--patch", [])]
    if call.verb == "set":
        texts += list(call.positionals[2:])
    return {colour for text in texts for colour in colours if colour in text.lower()}


def retires_deployment(call: KubectlCall) -> bool:
    """Whether the call scales a Deployment to zero or deletes one (the old colour's cleanup)."""
    args = call.positionals[1:]
    kind = args[0].split("/", 1)[0].lower() if args else ""
    deployment = kind in ("deployment", "deployments", "deploy")
    if call.verb == "delete":
        return deployment
    replicas = [*call.flags.get("--replicas", [])]
    return call.verb == "scale" and deployment and replicas[-1:] == ["0"]


def first_retirement(path: str, text: str) -> bash.Command | None:
    """The first command of the procedure that scales a Deployment to zero or deletes one, or None."""
    for command in commands(path, text):
        call = kubectl_call(command)
        if call is not None and retires_deployment(call):
            return command
    return None
