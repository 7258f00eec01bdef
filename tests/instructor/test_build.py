"""``capstone build``: the template from a reference solution, its errors, and ``--check``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from graders.cli import main
from graders.commands.build import ignored_by_git
from graders.instructor import build, copier_config

from .conftest import KIT, MakeKit

PAYLOAD = copier_config.PAYLOAD_DIR
MODULE = '''"""Audit."""

import time


def record(request):
    # BEGIN SOLUTION lab02: time the request and record it
    started = time.monotonic()
    return started
    # END SOLUTION
'''


def payload(result: build.BuildResult) -> dict[str, bytes]:
    prefix = PAYLOAD + "/"
    return {k.removeprefix(prefix): v.content for k, v in result.files.items() if k.startswith(prefix)}


def test_real_template_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    """CI's staleness check: `capstone build --check` on this checkout."""
    code = main(["build", "--check"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "template/ is up to date" in out


def test_build_strips_templatizes_and_lints(make_kit: MakeKit) -> None:
    kit = make_kit(
        {
            "src/audit.py": MODULE,
            "config/plant.yaml": "plant:\n  name: Riverbend Stamping Plant\n  code: RVB01\n",
            ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.sha }}\n",
            "scripts/run.sh": "#!/bin/sh\necho hi\n",
        }
    )
    os.chmod(kit / "reference_solution/scripts/run.sh", 0o755)
    result = build.build(kit)
    files = payload(result)
    audit = files["src/audit.py"].decode()
    assert "# TODO(lab02): time the request and record it" in audit
    assert 'raise NotImplementedError("lab02: time the request and record it")' in audit
    assert "import time  # noqa: F401" in audit  # ruff keeps the hint lint-clean
    assert files["config/plant.yaml.jinja"].decode() == (
        "plant:\n  name: {{ cookiecutter.plant_name }}\n  code: {{ cookiecutter.plant_code }}\n"
    )
    assert files[".github/workflows/ci.yml"].decode().endswith("${{ github.sha }}\n")  # not a template: untouched
    assert result.files[f"{PAYLOAD}/scripts/run.sh"].executable
    assert ".copier-answers.yml.jinja" in files
    assert "config/plant.yaml.jinja" in result.rendered and ".github/workflows/ci.yml" not in result.rendered


def test_build_is_deterministic(make_kit: MakeKit) -> None:
    kit = make_kit({"src/audit.py": MODULE, "a.md": "RVB01\n"})
    assert build.build(kit) == build.build(kit)


def test_marker_error_names_file_and_line(make_kit: MakeKit, capsys: pytest.CaptureFixture[str]) -> None:
    kit = make_kit({"k8s/deployment.yaml": "spec:\n  # BEGIN SOLUTION lab08: probes\n  replicas: 2\n"})
    assert main(["build", "--kit", str(kit)]) == 1
    err = capsys.readouterr().err
    assert "reference_solution/k8s/deployment.yaml:2: BEGIN SOLUTION has no END SOLUTION after it" in err
    assert not (kit / "template").exists()  # nothing written on error


def test_unknown_lab_is_an_error(make_kit: MakeKit) -> None:
    kit = make_kit({"a.py": "# BEGIN SOLUTION lab12: x\nA = 1\n# END SOLUTION\n"})
    with pytest.raises(build.BuildError, match=r"reference_solution/a.py:1: marker names lab12, which is not a lab"):
        build.build(kit)


def test_every_problem_is_reported_at_once(make_kit: MakeKit) -> None:
    kit = make_kit({"a.py": "# END SOLUTION\n", "b.yml": "# BEGIN SOLUTION lab01\n"})
    with pytest.raises(build.BuildError) as caught:
        build.build(kit)
    assert len(caught.value.problems) == 2


def test_stripped_file_must_still_parse(make_kit: MakeKit) -> None:
    kit = make_kit(
        {
            "rules.test.yml": "tests:\n  # BEGIN SOLUTION lab04: the scenario\n  - name: a\n  # STARTER\n  # []\n"
            "  # END SOLUTION\n  - name: b\n",
        }
    )
    with pytest.raises(build.BuildError) as caught:
        build.build(kit)
    message = str(caught.value)
    assert message.startswith(
        "reference_solution/rules.test.yml:2: once this region is stripped the file no longer parses as yaml"
    )
    assert "STARTER part" in message


def test_hcl_that_no_longer_parses_is_an_error(make_kit: MakeKit) -> None:
    kit = make_kit(
        {
            "terraform/main.tf": 'resource "x" "y" {\n  # BEGIN SOLUTION lab07: the name\n  name = "a"\n'
            "  # STARTER\n  # name =\n  # END SOLUTION\n}\n"
        }
    )
    with pytest.raises(build.BuildError, match=r"terraform/main.tf:2: .* parses as hcl"):
        build.build(kit)


def test_lab_starters_replace_or_omit_files(make_kit: MakeKit) -> None:
    kit = make_kit(
        {
            "docker-compose.prod.yml": "services: {}\n",
            "k8s/blue-green/blue.yaml": "kind: Deployment\n",
            "k8s/blue-green/green.yaml": "kind: Deployment\n",
            "dashboard.json": '{"title": "RVB01"}\n',
        },
        starters={
            "lab03": {"docker-compose.prod.yml": None, "dashboard.json": "dashboard.json"},
            "lab08": {"k8s/blue-green": "blue-green"},
        },
        starter_files={
            "lab03/starters/dashboard.json": '{"title": "TODO"}\n',
            "lab08/starters/blue-green/README.md": "Write blue and green for RVB01.\n",
        },
    )
    files = payload(build.build(kit))
    assert "docker-compose.prod.yml" not in files
    assert files["dashboard.json"] == b'{"title": "TODO"}\n'
    assert not any(p.startswith("k8s/blue-green/") and "README" not in p for p in files)
    assert files["k8s/blue-green/README.md.jinja"] == b"Write blue and green for {{ cookiecutter.plant_code }}.\n"
    kept = payload(build.build(kit, keep_solutions=True))
    assert (
        "docker-compose.prod.yml" in kept
        and kept["dashboard.json.jinja"] == b'{"title": "{{ cookiecutter.plant_code }}"}\n'
    )


def test_missing_starter_file_is_an_error(make_kit: MakeKit) -> None:
    kit = make_kit({"a.json": "{}\n"}, starters={"lab03": {"a.json": "a.json"}})
    with pytest.raises(
        build.BuildError,
        match=r"labs/lab03/lab.yaml: starters: 'a.json' -> 'a.json', but "
        r"labs/lab03/starters/a.json does not exist",
    ):
        build.build(kit)


def test_kit_starters_give_the_student_readme_and_an_empty_progress_sheet(make_kit: MakeKit) -> None:
    kit = make_kit({"README.md": "# Reference\n"})
    files = payload(build.build(kit))
    readme = files["README.md.jinja"].decode()
    assert readme.startswith("# Manufacturing Copilot capstone: {{ cookiecutter.plant_name }}")
    assert "| lab08 | Synthetic lab number 8 | 10 |" in readme
    progress = files["capstone-progress.csv"].decode().splitlines()
    assert progress[0] == "lab,date,outputs,status"
    assert progress[1] == "lab01,,,not-started"
    assert "## Log" in files["PROGRESS_TRACKER.md"].decode()


def test_binary_files_are_copied_unchanged(make_kit: MakeKit) -> None:
    blob = b"\x89PNG\r\n\x1a\n\x00RVB01{{"
    kit = make_kit({"data/img.png": blob})
    assert payload(build.build(kit))["data/img.png"] == blob


def test_course_data_moves_beside_the_payload(make_kit: MakeKit) -> None:
    blob = b"\x89PNG\r\n\x1a\n\x00"
    kit = make_kit({"data/inspection/train/ok-0001.png": blob, "data/inspection/eval.dvc": "outs: []\n"})
    result = build.build(kit)
    assert result.files["course-data/data/inspection/train/ok-0001.png"].content == blob
    assert "data/inspection/train/ok-0001.png" not in payload(result)
    assert "data/inspection/eval.dvc" in payload(result)  # only the listed folders move


def test_course_data_may_not_hold_variables(make_kit: MakeKit) -> None:
    kit = make_kit({"data/inspection/eval/labels.csv": "file,plant\nok-0001.png,RVB01\n"})
    with pytest.raises(build.BuildError, match=r"eval/labels\.csv: holds example values, but course data .* copied"):
        build.build(kit)


def test_crlf_file_with_variables_is_refused(make_kit: MakeKit) -> None:
    kit = make_kit({"notes.txt": "plant RVB01\r\n"})
    with pytest.raises(build.BuildError, match=r"notes\.txt: holds example values but uses CRLF line endings"):
        build.build(kit)


def test_template_suffix_and_braces_in_names_are_refused(make_kit: MakeKit) -> None:
    kit = make_kit({"x.jinja": "a\n", "{{odd}}.txt": "b\n"})
    with pytest.raises(build.BuildError) as caught:
        build.build(kit)
    assert any("x.jinja: a file name may not end in .jinja" in p for p in caught.value.problems)
    assert any("{{odd}}.txt: a path may not hold template braces" in p for p in caught.value.problems)


def test_symlinks_are_refused(make_kit: MakeKit) -> None:
    kit = make_kit({"a.txt": "a\n"})
    (kit / "reference_solution/link.txt").symlink_to("a.txt")
    with pytest.raises(build.BuildError, match=r"link\.txt: symbolic links are not supported"):
        build.build(kit)


@pytest.mark.parametrize("with_git", [False, True], ids=["gitignore-files", "git"])
def test_ignored_files_and_caches_stay_out(make_kit: MakeKit, with_git: bool) -> None:
    kit = make_kit(
        {
            ".gitignore": "secrets/*\n!secrets/README.md\n*.log\n",
            "secrets/README.md": "how to create secrets\n",
            "secrets/jwt.txt": "s3cret\n",
            "run.log": "x\n",
            "src/__pycache__/a.pyc": b"\x00",
            "var/copilot.db": b"\x00",
            "mlruns/0/meta.yaml": "a: 1\n",
            ".venv/bin/python": "x\n",
            "src/app.py": "A = 1\n",
            "data/var/keep.txt": "kept: var is only dropped at the top\n",
        }
    )
    if with_git:
        subprocess.run(["git", "init", "-q"], cwd=kit, check=True)
    files = payload(build.build(kit))
    assert {"secrets/README.md", "src/app.py", "data/var/keep.txt", ".gitignore"} <= set(files)
    assert not {
        "secrets/jwt.txt",
        "run.log",
        "src/__pycache__/a.pyc",
        "var/copilot.db",
        "mlruns/0/meta.yaml",
        ".venv/bin/python",
    } & set(files)


def test_notebooks_are_stripped_into_notebooks(make_kit: MakeKit) -> None:
    import nbformat

    kit = make_kit({"a.txt": "a\n"})
    notebook = nbformat.v4.new_notebook()
    code = "x = 1\n# BEGIN SOLUTION lab02: compute y\ny = x + 1\n# END SOLUTION"
    cell = nbformat.v4.new_code_cell(code, outputs=[nbformat.v4.new_output("stream", text="2\n")], execution_count=3)
    notebook.cells = [nbformat.v4.new_markdown_cell("Riverbend Stamping Plant"), cell]
    nbformat.write(notebook, str(kit / "labs/lab02/lab02_synthetic.ipynb"))
    files = payload(build.build(kit))
    rendered = json.loads(files["notebooks/lab02_synthetic.ipynb.jinja"])
    assert "".join(rendered["cells"][1]["source"]) == "x = 1\n# TODO(lab02): compute y"
    assert rendered["cells"][1]["outputs"] == [] and rendered["cells"][1]["execution_count"] is None
    assert "".join(rendered["cells"][0]["source"]) == "{{ cookiecutter.plant_name }}"
    assert "notebooks/lab02_synthetic.ipynb.jinja" not in payload(build.build(kit, keep_solutions=True))


def test_notebook_marker_error_names_the_cell(make_kit: MakeKit) -> None:
    import nbformat

    kit = make_kit({"a.txt": "a\n"})
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("a = 1"), nbformat.v4.new_code_cell("# END SOLUTION")]
    nbformat.write(notebook, str(kit / "labs/lab01/lab01_synthetic.ipynb"))
    with pytest.raises(build.BuildError, match=r"labs/lab01/lab01_synthetic.ipynb cell 2:1: END SOLUTION without"):
        build.build(kit)


def test_generated_configs_agree_with_the_questions(make_kit: MakeKit) -> None:
    kit = make_kit({"a.md": "RVB01\n", "b.txt": "plain\n"})
    result = build.build(kit)
    pre = copier_config.load_hook(kit / "hooks", "pre_gen_project")
    copier = yaml.safe_load(result.copier_yml)
    cookie = json.loads(result.files["cookiecutter.json"].content)
    for question in pre.QUESTIONS:
        assert copier[question.name]["default"] == question.default
        expected = [question.default, *[c for c in question.choices if c != question.default]]
        assert cookie[question.name] == (expected if question.choices else question.default)
        assert question.name in cookie["__prompts__"]
    assert copier["_subdirectory"] == "template/{% raw %}" + PAYLOAD + "{% endraw %}"
    copied = cookie["_copy_without_render"]
    assert "b.txt" in copied and "capstone-progress.csv" in copied
    assert "a.md.jinja" not in copied and ".copier-answers.yml.jinja" not in copied
    assert result.files["hooks/pre_gen_project.py"].content == (kit / "hooks/pre_gen_project.py").read_bytes()


def test_check_reports_stale_template_and_build_fixes_it(make_kit: MakeKit, capsys: pytest.CaptureFixture[str]) -> None:
    kit = make_kit({"a.md": "RVB01\n"})
    assert main(["build", "--check", "--kit", str(kit)]) == 1
    assert "template/ is stale" in capsys.readouterr().err
    assert main(["build", "--kit", str(kit)]) == 0
    assert main(["build", "--check", "--kit", str(kit)]) == 0
    (kit / "template" / PAYLOAD / "stray.txt").write_text("hand edit\n", encoding="utf-8")
    (kit / "reference_solution/a.md").write_text("RVB01 changed\n", encoding="utf-8")
    assert main(["build", "--check", "--kit", str(kit)]) == 1
    err = capsys.readouterr().err
    assert f"template/{PAYLOAD}/stray.txt (no longer generated)" in err
    assert f"template/{PAYLOAD}/a.md.jinja (differs)" in err
    assert main(["build", "--kit", str(kit)]) == 0
    assert not (kit / "template" / PAYLOAD / "stray.txt").exists()
    assert (kit / "reference_solution/.github/workflows/classroom.yml").is_file()  # generated into the reference


def test_keep_solutions_option_writes_a_renderable_source(make_kit: MakeKit, tmp_path: Path) -> None:
    kit = make_kit({"src/audit.py": MODULE})
    assert main(["build", "--kit", str(kit), "--keep-solutions", str(tmp_path / "kept")]) == 0
    assert (tmp_path / "kept/copier.yml").is_file()
    assert (tmp_path / "kept/template" / PAYLOAD / "src/audit.py").read_text(encoding="utf-8") == MODULE


def test_template_readme_and_hooks_copies_exist_in_the_real_template() -> None:
    assert (KIT / "template/cookiecutter.json").is_file()
    for name in build.HOOK_FILES:
        assert (KIT / "template/hooks" / name).read_bytes() == (KIT / "hooks" / name).read_bytes()


def test_migrations_become_copier_migrations_after_the_update() -> None:
    pre = copier_config.load_hook(KIT / "hooks", "pre_gen_project")
    config = yaml.safe_load(copier_config.copier_yml(pre.QUESTIONS, ("Dockerfile.gpu",), ["v0.2.0"], "course-data"))
    assert config["_migrations"] == [
        {
            "version": "v0.2.0",
            "when": "{{ _stage == 'after' }}",
            "command": ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations.py", "--to", "v0.2.0"],
        }
    ]
    assert config["_exclude"] == ["{% if not gpu_variant %}Dockerfile.gpu{% endif %}"]
    assert config["_skip_if_exists"] == ["capstone-progress.csv", "PROGRESS_TRACKER.md"]
    assert config["_tasks"][0]["command"][-3:] == [
        "{{ cookiecutter | tojson }}",
        "--course-data",
        "{{ _copier_conf.src_path }}/template/course-data",
    ]


def test_course_data_goes_beside_the_payload_unrendered() -> None:
    result = build.build(KIT)
    post = copier_config.load_hook(KIT / "hooks", "post_gen_project")
    data = [p for p in result.files if p.startswith(post.COURSE_DATA_DIR + "/")]
    assert data and all(any(p.split("/", 1)[1].startswith(f + "/") for f in post.COURSE_DATA_PATHS) for p in data)
    assert not [p for p in result.files if p.startswith(f"{copier_config.PAYLOAD_DIR}/data/inspection/train/")]
    assert "data/inspection/train/labels.csv" in {p.split("/", 1)[1] for p in data}


def test_lines_too_long_for_long_answers_are_warned_about(
    make_kit: MakeKit, capsys: pytest.CaptureFixture[str]
) -> None:
    line = 'PROJECT = "meridian-mfg-copilot"  # ' + "x" * 80 + "\n"
    kit = make_kit({"src/settings.py": line, "src/ok.py": 'PROJECT = "meridian-mfg-copilot"\n'})
    result = build.build(kit)
    assert result.warnings == [
        f"reference_solution/src/settings.py:1: {len(line) - 1} columns with the example plant, up to "
        f"{len(line) - 1 + 10} with the longest valid gcp_project_id: over the 120 of ruff's line-length; shorten it"
    ]
    assert main(["build", "--kit", str(kit)]) == 0
    assert "capstone: warning: reference_solution/src/settings.py:1:" in capsys.readouterr().err


def test_template_files_that_git_would_ignore_are_named(tmp_path: Path) -> None:
    """A .gitignore inside template/ (the student's own) must not silently drop a template file."""
    project = tmp_path / "template" / "{{project}}"
    project.mkdir(parents=True)
    (project / ".gitignore").write_text(".env.*\n!.env.example\n")
    (project / ".env.example.jinja").write_text("COPILOT_PLANT={{ plant_code }}\n")
    (project / "README.md").write_text("hi\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert ignored_by_git(tmp_path) == ["template/{{project}}/.env.example.jinja"]
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "template"], check=True)
    assert ignored_by_git(tmp_path) == []
