"""Retrieval quality on the shipped evaluation set (a regression guard for the corpus and the retriever)."""

from common.evaluation import load_eval_set
from copilot.rag.corpus import load_corpus
from copilot.rag.evaluate import EVAL_SET, evaluate
from copilot.rag.retriever import build_retriever
from copilot.storage import LocalDocumentStore
from tests.conftest import REPO


def test_recall_and_mrr_on_the_eval_set() -> None:
    questions = load_eval_set(REPO / "data" / EVAL_SET)
    assert len(questions) >= 50
    corpus = load_corpus(LocalDocumentStore(REPO / "data"))
    doc_ids = {d.id for d in corpus.documents}
    unknown = sorted({d for q in questions for d in q.relevant_doc_ids} - doc_ids)
    assert not unknown, f"the eval set names documents that do not exist: {unknown}"
    report = evaluate(build_retriever(corpus), questions, k=5)
    assert report["recall@5"] >= 0.9, report
    assert report["mrr"] >= 0.8, report
    assert report["groundedness"] >= 0.95, report
