"""Loading documents and chunking them."""

import pytest

from copilot.rag.corpus import CorpusError, chunk_document, load_corpus, parse_document, sections
from copilot.storage import LocalDocumentStore
from tests.conftest import REPO

DOC = (
    """---
id: sop-test
title: "Test SOP"
doc_type: sop
equipment: [{plant}-PRS-101]
plant: {plant}
line: press-1
revision: "B"
effective_date: "2026-01-05"
---

Intro line.

## First step

Do the first thing. Then the second.

## Second step ##

"""
    + " ".join(f"word{i}" for i in range(450))
    + "\n"
)


def test_parse_and_sections(plant: str) -> None:
    doc = parse_document(DOC.format(plant=plant), "documents/sop-test.md")
    assert (doc.id, doc.doc_type, doc.equipment, doc.revision) == ("sop-test", "sop", (f"{plant}-PRS-101",), "B")
    assert [h for h, _ in sections(doc.body)] == ["Overview", "First step", "Second step"]


def test_long_sections_become_overlapping_windows(plant: str) -> None:
    chunks = chunk_document(parse_document(DOC.format(plant=plant), "x.md"), max_words=200, overlap=40)
    long = [c for c in chunks if c.section == "Second step"]
    assert [len(c.text.split()) for c in long] == [200, 200, 130]
    assert long[0].text.split()[-40:] == long[1].text.split()[:40]
    assert len({c.id for c in chunks}) == len(chunks)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "missing YAML front matter"),
        ("---\nid: x\n---\nbody", "lacks title, doc_type, plant"),
        ("---\nid: x\ntitle: t\ndoc_type: memo\nplant: P\n---\nbody", "doc_type 'memo'"),
        ("---\nid: [x\n---\nbody", "not valid YAML"),
    ],
)
def test_bad_documents_name_the_file(text: str, message: str) -> None:
    with pytest.raises(CorpusError, match=r"bad\.md") as excinfo:
        parse_document(text, "bad.md")
    assert message in str(excinfo.value)


def test_bad_files_are_skipped_not_fatal(tmp_path, plant: str) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "good.md").write_text(DOC.format(plant=plant))
    (docs / "bad.md").write_text("nothing here")
    (docs / "README.md").write_text("# about these documents")
    corpus = load_corpus(LocalDocumentStore(tmp_path))
    assert [d.id for d in corpus.documents] == ["sop-test"]
    assert len(corpus.skipped) == 1 and "bad.md" in corpus.skipped[0]


def test_the_shipped_corpus_loads_cleanly() -> None:
    corpus = load_corpus(LocalDocumentStore(REPO / "data"))
    assert corpus.skipped == []
    assert len(corpus.chunks) >= 300, "the corpus should hold several hundred chunks"
