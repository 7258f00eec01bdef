"""BM25 retrieval: plant scoping, equipment boost, one chunk per document, caching."""

from copilot.rag.corpus import Chunk, Corpus
from copilot.rag.retriever import Bm25Retriever, build_retriever


def chunk(cid: str, doc: str, text: str, plant: str, equipment: tuple[str, ...] = ()) -> Chunk:
    return Chunk(cid, doc, f"title {doc}", "s", text, plant, "manual", equipment)


def corpus(plant: str, other: str) -> Corpus:
    return Corpus(
        documents=[],
        chunks=[
            chunk("a#1", "a", "hydraulic pump leak at the cushion cylinder seal", plant, (f"{plant}-HPU-115",)),
            chunk("a#2", "a", "hydraulic pump leak repair with new seal kit", plant, (f"{plant}-HPU-115",)),
            chunk("b#1", "b", "hydraulic leak on the robot gripper", plant),
            chunk("c#1", "c", "hydraulic pump leak in the body shop", other),
            chunk("d#1", "d", "paint booth filter change", plant),
        ],
    )


def test_results_stay_in_the_requested_plant(plant: str, other_plant: str) -> None:
    retriever = Bm25Retriever(corpus(plant, other_plant))
    found = retriever.search("hydraulic pump leak", plant, top_k=10)
    assert {s.chunk.plant for s in found} == {plant}
    assert [s.chunk.doc_id for s in retriever.search("hydraulic pump leak", other_plant)] == ["c"]
    assert retriever.search("hydraulic", "ZZZ99") == []


def test_one_chunk_per_document_best_first(plant: str, other_plant: str) -> None:
    found = Bm25Retriever(corpus(plant, other_plant)).search("hydraulic pump leak seal", plant, top_k=5)
    ids = [s.chunk.doc_id for s in found]
    assert ids == ["a", "b"]
    assert found[0].score >= found[1].score > 0


def test_equipment_boost_prefers_its_documents(plant: str, other_plant: str) -> None:
    retriever = Bm25Retriever(corpus(plant, other_plant))
    plain = [s.chunk.doc_id for s in retriever.search("hydraulic leak", plant)]
    boosted = [s.chunk.doc_id for s in retriever.search("hydraulic leak", plant, f"{plant}-HPU-115")]
    assert plain[0] == "b" and boosted[0] == "a"


def test_no_match_and_empty_questions(plant: str, other_plant: str) -> None:
    retriever = Bm25Retriever(corpus(plant, other_plant))
    assert retriever.search("zzzz qqqq", plant) == []
    assert retriever.search("the and of", plant) == []
    assert Bm25Retriever(Corpus([], [])).search("anything", plant) == []


def test_index_is_built_once_per_corpus(plant: str, other_plant: str) -> None:
    first = build_retriever(corpus(plant, other_plant))
    assert build_retriever(corpus(plant, other_plant)) is first
    assert first.version.startswith("bm25s-")
