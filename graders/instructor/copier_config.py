"""copier.yml and cookiecutter.json, both generated from the questions in hooks/pre_gen_project.py.

One source serves both tools: the question list, each rule and its message live in the pre-generation
hook; copier gets them as questions with Jinja validators, cookiecutter as defaults, choice lists and
prompts (its hook checks the same rules before generating). Copier also exposes the answers as a
computed ``cookiecutter`` mapping, so every template file says ``{{ cookiecutter.x }}`` for both.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from graders.instructor.kit_files import STUDENT_OWNED

PAYLOAD_DIR = "{{cookiecutter.__repo_name}}"
REPO_NAME = "copilot-capstone-{{ cookiecutter.github_username }}"
MIN_COPIER_VERSION = "9.5.0"  # _copier_operation, which the tasks pass to the post-generation hook
TEMPLATE_SUFFIX = ".jinja"


def load_hook(hooks_dir: Path, name: str) -> ModuleType:
    """Import ``hooks/<name>.py`` (hooks are scripts, not a package)."""
    path = hooks_dir / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"capstone_hooks_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)


def _validator(question: Any) -> str:
    shown = "{{ " + question.name + " }}"
    if question.kind == "bool":
        return ""
    if question.choices:
        allowed = json.dumps(list(question.choices))
        condition = f"{question.name} not in {allowed}"
    else:
        condition = f"not ({question.name} | regex_search({json.dumps(question.pattern, ensure_ascii=False)}))"
    return f"{{% if {condition} %}}{question.name} = '{shown}' is not valid: {question.rule}.{{% endif %}}"


def copier_questions(questions: tuple[Any, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for q in questions:
        entry: dict[str, Any] = {"type": "bool" if q.kind == "bool" else "str", "help": q.help, "default": q.default}
        if q.choices:
            entry["choices"] = {
                f"{value} ({label})" if label != value else value: value for value, label in q.choices.items()
            }
        validator = _validator(q)
        if validator:
            entry["validator"] = validator
        result[q.name] = entry
    namespace = "\n".join(f"{q.name}: {{{{ {q.name} | tojson }}}}" for q in questions)
    namespace += "\n__plant_slug: {{ plant_code | lower | tojson }}"
    namespace += "\n__repo_name: {{ ('copilot-capstone-' ~ github_username) | tojson }}"
    result["cookiecutter"] = {"type": "yaml", "when": False, "default": namespace + "\n"}
    return result


def copier_yml(
    questions: tuple[Any, ...], gpu_paths: tuple[str, ...], migration_versions: list[str], course_data_dir: str
) -> str:
    """The text of copier.yml (``course_data_dir``: the folder of template/ the task copies data from)."""
    settings: dict[str, Any] = {
        "_min_copier_version": MIN_COPIER_VERSION,
        "_subdirectory": "template/{% raw %}" + PAYLOAD_DIR + "{% endraw %}",
        "_templates_suffix": TEMPLATE_SUFFIX,
        "_answers_file": ".copier-answers.yml",
        "_skip_if_exists": list(STUDENT_OWNED),
        "_exclude": [f"{{% if not gpu_variant %}}{path}{{% endif %}}" for path in gpu_paths],
        "_tasks": [
            {
                "command": [
                    "{{ _copier_python }}",
                    "{{ _copier_conf.src_path }}/hooks/post_gen_project.py",
                    "--tool",
                    "copier",
                    "--operation",
                    "{{ _copier_operation }}",
                    "--answers",
                    "{{ cookiecutter | tojson }}",
                    "--course-data",
                    "{{ _copier_conf.src_path }}/template/" + course_data_dir,
                ]
            }
        ],
        "_migrations": [
            {
                "version": version,
                "when": "{{ _stage == 'after' }}",
                "command": ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations.py", "--to", version],
            }
            for version in migration_versions
        ],
        "_message_after_copy": (
            "Your capstone repository is ready. Next: cd into it, `make setup`, `make test`, then open\n"
            "notebooks/ and start with lab01. `make grade` shows your score, lab by lab (one lab:\n"
            "`make grade LAB=lab01`; from notebooks/: `make -C .. grade LAB=lab01`). `make help` lists every target.\n"
        ),
        "_message_after_update": (
            "Updated. Review with `git diff`; resolve any conflict markers (<<<<<<<) before you commit.\n"
        ),
    }
    header = (
        "# Copier configuration of the Manufacturing Copilot capstone template.\n"
        "# Generated by `capstone build` from hooks/pre_gen_project.py (questions and their rules),\n"
        "# hooks/post_gen_project.py (GPU-only paths), hooks/migrations.py (renamed paths) and the lab\n"
        "# metadata. Do not edit by hand: change those and run `capstone build`.\n"
        "# Students: copier copy --trust gh:ORG/REPO my-capstone; later: copier update --trust\n"
    )
    questions_header = "\n# Questions (defaults: the example plant; your name and username: placeholders)\n"
    return header + _dump(settings) + questions_header + _dump(copier_questions(questions))


def cookiecutter_json(questions: tuple[Any, ...], copy_without_render: list[str]) -> str:
    """The text of template/cookiecutter.json (defaults first in choice lists; prompts from the help)."""
    context: dict[str, Any] = {}
    prompts: dict[str, Any] = {}
    for q in questions:
        if q.choices:
            values = [q.default] + [v for v in q.choices if v != q.default]
            context[q.name] = values
            prompts[q.name] = {"__prompt__": q.help, **{v: f"{v} ({label})" for v, label in q.choices.items()}}
        else:
            context[q.name] = q.default
            prompts[q.name] = q.help
    context["__plant_slug"] = "{{ cookiecutter.plant_code | lower }}"
    context["__repo_name"] = REPO_NAME
    context["__prompts__"] = prompts
    context["_copy_without_render"] = copy_without_render
    return json.dumps(context, indent=2, ensure_ascii=False) + "\n"
