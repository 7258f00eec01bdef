"""The plant data set: equipment registry, maintenance corpus, RAG evaluation set and their generator.

Everything the Copilot retrieves, cites and is evaluated on comes from ``data/``; these tests keep the
contract the service, the notebooks and the graders rely on (see data/README.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DOCUMENTS = DATA / "documents"
GENERATOR = ROOT / "scripts" / "generate_corpus.py"

DOC_TYPES = {"manual", "sop", "maintenance_log", "work_order", "safety_bulletin", "quality_report"}
REQUIRED_KEYS = ("id", "title", "doc_type", "equipment", "plant", "line", "revision", "effective_date")
OPTIONAL_KEYS = {"technician", "work_order", "priority", "status"}
EQUIPMENT_KEYS = ("id", "name", "type", "line", "plant", "manufacturer", "model", "criticality", "commissioned")
EQUIPMENT_ID = re.compile(r"^(?P<plant>[A-Z]{3}[0-9]{2})-[A-Z]{3}-[0-9]{3}$")
DOC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
GENERATED_PREFIXES = ("log-", "wo-")
SECTION_WORDS = (80, 250)
MAX_DATA_BYTES = 3 * 1024 * 1024


def words(text: str) -> int:
    """Words as a reader counts them: table rules and cell separators are not words."""
    return sum(1 for token in text.split() if not set(token) <= set("|-:"))


@cache
def equipment() -> dict[str, dict[str, Any]]:
    items = yaml.safe_load((DATA / "equipment.yaml").read_text(encoding="utf-8"))["equipment"]
    return {item["id"]: item for item in items}


@cache
def plant_lines() -> dict[str, set[str]]:
    lines: dict[str, set[str]] = {}
    for item in equipment().values():
        lines.setdefault(item["plant"], set()).add(item["line"])
    return lines


def split_document(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.DOTALL)
    assert match, f"{path.name}: must start with YAML front matter between two '---' lines"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.name}: front matter must be a mapping"
    return meta, match.group(2)


@cache
def documents() -> dict[str, tuple[dict[str, Any], str]]:
    return {path.stem: split_document(path) for path in sorted(DOCUMENTS.glob("*.md"))}


@cache
def eval_rows() -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate((DATA / "eval" / "rag_eval.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"rag_eval.jsonl:{number}: blank line"
        rows.append(json.loads(line))
    return rows


def sections(body: str) -> list[tuple[str, str]]:
    parts = re.split(r"(?m)^## ", body)
    return [(part.partition("\n")[0].strip(), part.partition("\n")[2]) for part in parts[1:]]


def run_generator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


# ---------------------------------------------------------------- equipment registry


def test_equipment_registry_schema() -> None:
    raw = yaml.safe_load((DATA / "equipment.yaml").read_text(encoding="utf-8"))["equipment"]
    ids = [item["id"] for item in raw]
    assert len(ids) == len(set(ids)), "equipment ids must be unique"
    assert 25 <= len(raw) <= 45, f"expected about 30 equipment items, found {len(raw)}"
    for item in raw:
        missing = [key for key in EQUIPMENT_KEYS if key not in item]
        assert not missing, f"{item.get('id')}: missing {missing}"
        match = EQUIPMENT_ID.match(item["id"])
        assert match, f"{item['id']}: ids look like RVB01-PRS-101"
        assert match["plant"] == item["plant"], f"{item['id']}: id prefix differs from plant {item['plant']}"
        assert item["criticality"] in {"A", "B", "C"}, f"{item['id']}: criticality must be A, B or C"
        assert isinstance(item["commissioned"], str), f"{item['id']}: quote the commissioned date"
        dt.date.fromisoformat(item["commissioned"])


def test_registry_covers_both_plants_and_every_line() -> None:
    counts: dict[str, int] = {}
    for item in equipment().values():
        counts[item["plant"]] = counts.get(item["plant"], 0) + 1
    assert counts.get("MTY02", 0) >= 3, "a few MTY02 items are needed for cross-plant access tests"
    capstone = max(counts, key=counts.__getitem__)
    assert len(plant_lines()[capstone]) == 3, f"{capstone} should have its three production lines"


# ---------------------------------------------------------------- documents


@pytest.mark.parametrize("doc_id", sorted(documents()))
def test_document_front_matter(doc_id: str) -> None:
    meta, _ = documents()[doc_id]
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    assert not missing, f"{doc_id}.md: front matter lacks {missing}"
    unknown = set(meta) - set(REQUIRED_KEYS) - OPTIONAL_KEYS
    assert not unknown, f"{doc_id}.md: unknown front matter keys {sorted(unknown)}"
    assert meta["id"] == doc_id, f"{doc_id}.md: id {meta['id']!r} must equal the file name"
    assert DOC_ID.match(doc_id), f"{doc_id}: ids are lowercase words joined by hyphens"
    for plant in plant_lines():
        assert plant.lower() not in doc_id, f"{doc_id}: document ids must not contain a plant code ({plant})"
    assert meta["doc_type"] in DOC_TYPES, f"{doc_id}.md: doc_type {meta['doc_type']!r} not in {sorted(DOC_TYPES)}"
    assert meta["plant"] in plant_lines(), f"{doc_id}.md: unknown plant {meta['plant']!r}"
    assert meta["line"] == "all" or meta["line"] in plant_lines()[meta["plant"]], (
        f"{doc_id}.md: line {meta['line']!r} is not a line of {meta['plant']} (or 'all')"
    )
    assert isinstance(meta["equipment"], list), f"{doc_id}.md: equipment must be a list"
    for equipment_id in meta["equipment"]:
        item = equipment().get(equipment_id)
        assert item, f"{doc_id}.md: equipment {equipment_id} is not in equipment.yaml"
        assert item["plant"] == meta["plant"], f"{doc_id}.md: {equipment_id} belongs to {item['plant']}"
        assert meta["line"] in ("all", item["line"]), f"{doc_id}.md: {equipment_id} is on {item['line']}"
    for key in ("title", "revision", "effective_date"):
        assert isinstance(meta[key], str) and meta[key], f"{doc_id}.md: {key} must be a quoted string"
    dt.date.fromisoformat(meta["effective_date"])


@pytest.mark.parametrize("doc_id", sorted(documents()))
def test_document_sections_are_retrieval_sized(doc_id: str) -> None:
    _, body = documents()[doc_id]
    assert body.lstrip("\n").startswith("## "), f"{doc_id}.md: the body starts with a '## ' section"
    found = sections(body)
    assert found, f"{doc_id}.md: no '## ' sections"
    titles = [title for title, _ in found]
    assert len(titles) == len(set(titles)), f"{doc_id}.md: repeated section titles"
    low, high = SECTION_WORDS
    for title, text in found:
        assert "\n#" not in "\n" + text, f"{doc_id}.md: section '{title}' has a nested heading; use '##' only"
        count = words(text)
        assert low <= count <= high, f"{doc_id}.md: section '{title}' has {count} words, expected {low}-{high}"


def test_corpus_size_and_mix() -> None:
    docs = documents()
    generated = [doc_id for doc_id in docs if doc_id.startswith(GENERATED_PREFIXES)]
    authored = [doc_id for doc_id in docs if not doc_id.startswith(GENERATED_PREFIXES)]
    assert 150 <= len(generated) <= 250, f"{len(generated)} generated documents, expected 150-250"
    assert len(authored) >= 25, f"{len(authored)} hand-written documents, expected at least 25"
    chunks = sum(len(sections(body)) for _, body in docs.values())
    assert 300 <= chunks <= 1000, f"{chunks} sections (retrieval chunks), expected several hundred"
    types = {docs[doc_id][0]["doc_type"] for doc_id in authored}
    assert types >= {"manual", "sop", "safety_bulletin", "quality_report"}, f"hand-written types: {types}"
    assert {docs[doc_id][0]["doc_type"] for doc_id in generated} == {"maintenance_log", "work_order"}
    assert sum(1 for meta, _ in docs.values() if meta["plant"] == "MTY02") >= 5, "MTY02 needs a few documents"


def test_data_folder_stays_small() -> None:
    """Registry, corpus and evaluation set; the inspection images are the vision code's to size."""
    files = [path for path in DATA.rglob("*") if path.is_file() and "inspection" not in path.relative_to(DATA).parts]
    total = sum(path.stat().st_size for path in files)
    assert total < MAX_DATA_BYTES, f"data/ holds {total} bytes of text data; keep it under {MAX_DATA_BYTES}"


def test_no_template_syntax_in_data() -> None:
    """The template build renders files that hold plant values with Jinja; data must not look like Jinja."""
    for path in sorted(DATA.rglob("*")):
        if path.is_file() and path.suffix in {".md", ".yaml", ".jsonl"}:
            text = path.read_text(encoding="utf-8")
            for token in ("{{", "{%", "{#"):
                assert token not in text, f"{path.relative_to(ROOT)}: contains {token!r}"


# ---------------------------------------------------------------- evaluation set


def test_eval_schema_and_mix() -> None:
    rows = eval_rows()
    assert len(rows) >= 60, f"{len(rows)} evaluation questions, expected at least 60"
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "evaluation ids must be unique"
    for row in rows:
        assert {"id", "question", "plant", "relevant_doc_ids", "answer_keywords"} <= set(row), f"{row['id']}: fields"
        assert row["plant"] in plant_lines(), f"{row['id']}: unknown plant {row['plant']}"
        assert row["relevant_doc_ids"] and row["answer_keywords"], f"{row['id']}: empty relevant_doc_ids or keywords"
    styles = [row.get("style") for row in rows]
    assert styles.count("paraphrase") >= 15, "keep a good share of paraphrased questions"
    assert sum(1 for row in rows if row.get("equipment")) >= 20, "keep equipment-scoped questions"
    assert sum(1 for row in rows if row["plant"] == "MTY02") >= 3, "keep a few MTY02 questions"


@pytest.mark.parametrize("row", eval_rows(), ids=lambda row: row["id"])
def test_eval_references_resolve(row: dict[str, Any]) -> None:
    docs = documents()
    for doc_id in row["relevant_doc_ids"]:
        assert doc_id in docs, f"{row['id']}: relevant document {doc_id} does not exist"
        assert docs[doc_id][0]["plant"] == row["plant"], f"{row['id']}: {doc_id} belongs to another plant"
    if row.get("equipment"):
        item = equipment().get(row["equipment"])
        assert item and item["plant"] == row["plant"], f"{row['id']}: equipment {row['equipment']} not in its plant"
        assert any(row["equipment"] in docs[doc_id][0]["equipment"] for doc_id in row["relevant_doc_ids"]), (
            f"{row['id']}: no relevant document lists {row['equipment']}"
        )
    texts = [
        yaml.safe_dump(docs[doc_id][0], allow_unicode=True).lower() + docs[doc_id][1].lower()
        for doc_id in row["relevant_doc_ids"]
    ]
    for keyword in row["answer_keywords"]:
        assert any(keyword.lower() in text for text in texts), (
            f"{row['id']}: answer keyword {keyword!r} appears in none of {row['relevant_doc_ids']}"
        )


# ---------------------------------------------------------------- generator


def committed_generated() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in DOCUMENTS.glob("*.md") if path.name.startswith(GENERATED_PREFIXES)}


def test_generator_is_deterministic_and_matches_committed_files(tmp_path: Path) -> None:
    outputs = []
    for name in ("first", "second"):
        result = run_generator("--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        outputs.append({path.name: path.read_bytes() for path in (tmp_path / name).glob("*.md")})
    assert outputs[0] == outputs[1], "two runs with the same seed differ"
    committed = committed_generated()
    assert sorted(outputs[0]) == sorted(committed), "generated file names differ from data/documents"
    stale = [name for name in committed if committed[name] != outputs[0][name]]
    assert not stale, f"committed documents differ from the generator's output: {stale[:5]}"


def test_generator_check_reports_stale_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    assert run_generator("--data-dir", data, "--check").returncode == 0
    victims = sorted((data / "documents").glob("log-*.md"))[:2]
    victims[0].write_text(victims[0].read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    victims[1].unlink()
    result = run_generator("--data-dir", data, "--check")
    assert result.returncode == 1
    assert f"differs: {victims[0].name}" in result.stderr and f"missing: {victims[1].name}" in result.stderr


def test_generator_output_survives_plant_code_substitution(tmp_path: Path) -> None:
    """The template build replaces the plant code literally; regenerating must give the same bytes."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    for path in [data / "equipment.yaml", *(data / "documents").glob("*.md")]:
        path.write_text(path.read_text(encoding="utf-8").replace("RVB01", "ZZX07"), encoding="utf-8")
    result = run_generator("--data-dir", data, "--check")
    assert result.returncode == 0, result.stderr


def test_generator_names_a_broken_registry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "equipment.yaml").write_text("equipment: [unclosed\n", encoding="utf-8")
    result = run_generator("--data-dir", data, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "equipment.yaml" in result.stderr and "not valid YAML" in result.stderr
    assert not (tmp_path / "out").exists(), "nothing may be written when the input is broken"


def test_generator_names_a_broken_template(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    catalog = data / "generator" / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text.replace("{alarm}", "{alarm_code}"), encoding="utf-8")
    result = run_generator("--data-dir", data, "--check")
    assert result.returncode == 2
    assert "catalog.yaml: entry '" in result.stderr and "{alarm_code}" in result.stderr
