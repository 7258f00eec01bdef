"""Solution markers: stripping per comment syntax, and every marker error naming file and line."""

from __future__ import annotations

import pytest

from graders.instructor.markers import MarkerError, parse, strip

LABS = {f"lab0{n}" for n in range(1, 9)}


def strip_py(text: str) -> str:
    return strip(text, "hash", "src/x.py", LABS, python=True)[0]


def test_python_function_body_becomes_todo_and_not_implemented() -> None:
    source = (
        "def record(request):\n"
        '    """Write one audit entry."""\n'
        "    # BEGIN SOLUTION lab02: record one audit entry per request\n"
        "    entry = build(request)\n"
        "    return store(entry)\n"
        "    # END SOLUTION\n"
        "\n"
        "\n"
        "def other():\n"
        "    return 1\n"
    )
    out = strip_py(source)
    assert "    # TODO(lab02): record one audit entry per request\n" in out
    assert '    raise NotImplementedError("lab02: record one audit entry per request")\n' in out
    assert "store(entry)" not in out
    compile(out, "x.py", "exec")


def test_starter_lines_are_uncommented_at_their_indentation() -> None:
    source = (
        "async def dispatch(request, call_next):\n"
        "    # BEGIN SOLUTION lab02: time the request\n"
        "    started = now()\n"
        "    return await call_next(request)\n"
        "    # STARTER\n"
        "    # return await call_next(request)\n"
        "    # END SOLUTION\n"
    )
    out = strip_py(source)
    assert out == (
        "async def dispatch(request, call_next):\n"
        "    # TODO(lab02): time the request\n"
        "    return await call_next(request)\n"
    )


def test_region_inside_a_class_body_gets_pass_not_raise() -> None:
    source = (
        "class Settings:\n    # BEGIN SOLUTION lab02: add the audit setting\n    audit: bool = True\n"
        "    # END SOLUTION\n"
    )
    out = strip_py(source)
    assert "    pass\n" in out and "NotImplementedError" not in out
    compile(out, "x.py", "exec")


def test_region_in_a_generator_keeps_it_a_generator() -> None:
    source = "async def events():\n    # BEGIN SOLUTION lab02: stream\n    yield 1\n    # END SOLUTION\n"
    out = strip_py(source)
    assert "raise NotImplementedError" in out and "    yield  #" in out
    namespace: dict[str, object] = {}
    exec(compile(out, "x.py", "exec"), namespace)
    import inspect

    assert inspect.isasyncgenfunction(namespace["events"])


def test_long_prompts_wrap_under_the_line_length() -> None:
    prompt = "complete user, plant and equipment, build the AuditRecord, submit it to the writer, then log " * 2
    source = f"def f():\n        # BEGIN SOLUTION lab02: {prompt.strip()}\n        return 1\n        # END SOLUTION\n"
    out = strip_py(source)
    assert max(len(line) for line in out.splitlines() if "TODO" not in line) <= 120
    compile(out, "x.py", "exec")


def test_module_level_region_gets_only_the_todo() -> None:
    out = strip_py("A = 1\n# BEGIN SOLUTION lab05: the guarded paths\nGUARDED = ('src/',)\n# END SOLUTION\n")
    assert out == "A = 1\n# TODO(lab05): the guarded paths\n"


def test_yaml_region_with_starter() -> None:
    source = "groups:\n  # BEGIN SOLUTION lab04: alerting rules\n  - name: a\n  # STARTER\n  # []\n  # END SOLUTION\n"
    out, labs = strip(source, "hash", "rules.yml", LABS)
    assert out == "groups:\n  # TODO(lab04): alerting rules\n  []\n"
    assert labs == {"lab04"}


def test_markdown_region_with_starter_block() -> None:
    source = (
        "# Runbook\n"
        "<!-- BEGIN SOLUTION lab06: write the rollback plan -->\n"
        "Run `gcloud run services update-traffic --to-revisions=prev=100`.\n"
        "<!-- STARTER\n"
        "## Rollback\n"
        "-->\n"
        "<!-- END SOLUTION -->\n"
        "end\n"
    )
    out, _ = strip(source, "markdown", "docs/runbook.md", LABS)
    assert out == "# Runbook\n**TODO(lab06):** write the rollback plan\n## Rollback\nend\n"


def test_missing_prompt_gets_a_default() -> None:
    out = strip_py("X = 1\n# BEGIN SOLUTION lab01\nY = 2\n# END SOLUTION\n")
    assert "# TODO(lab01): complete this part (see the lab notebook)" in out


def test_file_without_markers_is_returned_unchanged() -> None:
    text = "a: 1\n# a comment mentioning solutions\n"
    assert strip(text, "hash", "a.yml", LABS) == (text, set())


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a\n# BEGIN SOLUTION lab02: x\nb\n", 2, "has no END SOLUTION"),
        ("a\n# END SOLUTION\n", 2, "END SOLUTION without a BEGIN"),
        ("# BEGIN SOLUTION lab02: x\n# BEGIN SOLUTION lab03: y\n# END SOLUTION\n", 2, "never nest"),
        ("# BEGIN SOLUTION lab09: x\n# END SOLUTION\n", 1, "lab09, which is not a lab"),
        ("x\n# BEGIN SOLUTION: no lab id\n# END SOLUTION\n", 2, "malformed solution marker"),
        ("# begin solution lab02\n", 1, "malformed solution marker"),
        ("# STARTER\n", 1, "STARTER outside"),
        ("# BEGIN SOLUTION lab02\n# STARTER\n# STARTER\n# END SOLUTION\n", 3, "second STARTER"),
    ],
    ids=[
        "unbalanced",
        "end-without-begin",
        "nested",
        "unknown-lab",
        "malformed",
        "lowercase",
        "stray-starter",
        "two-starters",
    ],
)
def test_marker_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(MarkerError) as caught:
        parse(text, "hash", "k8s/deployment.yaml", LABS)
    assert str(caught.value).startswith(f"k8s/deployment.yaml:{line}: ")
    assert fragment in str(caught.value)


def test_uncommented_starter_line_is_an_error() -> None:
    text = "def f():\n    # BEGIN SOLUTION lab02\n    return 1\n    # STARTER\n    return 0\n    # END SOLUTION\n"
    with pytest.raises(MarkerError, match=r"^src/x.py:5: STARTER lines must be commented"):
        strip_py(text)


def test_markdown_starter_block_must_close() -> None:
    with pytest.raises(MarkerError, match="not closed with -->"):
        parse("<!-- BEGIN SOLUTION lab06 -->\n<!-- STARTER\ntext\n<!-- END SOLUTION -->\n", "markdown", "a.md", LABS)
