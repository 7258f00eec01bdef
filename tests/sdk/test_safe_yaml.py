"""graders.sdk.safe_yaml as the one place that reads YAML for the graders: a loader with extra tags goes
through the alias-bomb guard, and every read error becomes feedback naming file and line."""

from __future__ import annotations

import pytest
import yaml

from graders.sdk import safe_yaml
from graders.sdk.submission import _glob_match


class _TaggedLoader(safe_yaml.SafeLoader):
    pass


_TaggedLoader.add_constructor("!reset", lambda loader, node: None)


def _error(text: str) -> BaseException:
    try:
        safe_yaml.load(text, "f.yml")
    except safe_yaml.ERRORS as exc:
        return exc
    raise AssertionError("no error")


def test_a_loader_with_custom_tags_reads_them() -> None:
    assert safe_yaml.load("a: !reset [1]\nb: 2\n", "f.yml", loader=_TaggedLoader) == {"a": None, "b": 2}
    with pytest.raises(yaml.constructor.ConstructorError):
        safe_yaml.load("a: !reset [1]\n", "f.yml")


def test_a_custom_loader_still_refuses_alias_bombs() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    with pytest.raises(safe_yaml.UnsafeYamlError):
        safe_yaml.load(bomb, "f.yml", loader=_TaggedLoader)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: [\n", "f.yml:2 is not valid YAML (", 2),
        ("a: &a [*a]\n", "f.yml: refused: an alias refers to a node that contains it", None),
        ("a: 1\n---\nb: 2\n", "f.yml: expected one YAML document, found 2", None),
    ],
)
def test_explain_names_file_and_line(text: str, message: str, line: int | None) -> None:
    explained, where = safe_yaml.explain(_error(text), "f.yml")
    assert explained.startswith(message) and where == line


def test_explain_words_a_compose_file_its_own_way() -> None:
    explained, _ = safe_yaml.explain(_error("a: [\n"), "c.yml", what="a valid Compose file", fix="fix it")
    assert explained.startswith("c.yml:2 is not a valid Compose file (") and explained.endswith("; fix it")
    assert safe_yaml.explain(RecursionError(), "deep.yml") == ("deep.yml is nested too deeply to be read", None)


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("k8s/a.yaml", "k8s/*.yaml", True),
        ("k8s/b/c.yaml", "k8s/*.yaml", False),  # '*' stays in one folder
        ("k8s/b/c.yaml", "k8s/**/*.yaml", True),
        ("k8s/a.yaml", "k8s/**/*.yaml", True),  # '**/' spans zero folders too
        ("x/docker-compose.yml", "docker-compose*.y*ml", False),
        ("Dockerfile.gpu", "Dockerfile.*", True),
        ("a1.txt", "a[0-9].txt", True),
        ("terraform/modules/x/main.tf", "terraform/**", True),
    ],
)
def test_submission_glob(path: str, pattern: str, matches: bool) -> None:
    assert _glob_match(path, pattern) is matches
