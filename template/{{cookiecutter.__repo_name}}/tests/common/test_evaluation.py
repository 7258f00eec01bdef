"""Retrieval and groundedness metrics."""

import json

import pytest

from common.evaluation import (
    EvalQuestion,
    evaluate_retrieval,
    groundedness,
    hit_at_k,
    keyword_coverage,
    load_eval_set,
    recall_at_k,
    reciprocal_rank,
)


def test_recall_counts_documents_once() -> None:
    assert recall_at_k(["a", "a", "b", "c"], ["b", "z"], k=2) == 0.5
    assert recall_at_k(["a"], [], k=5) == 1.0
    assert hit_at_k(["x", "y"], ["y"], k=1) == 0.0


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(["a", "b", "c"], ["c"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a", "a", "b"], ["b"]) == pytest.approx(1 / 2)
    assert reciprocal_rank(["a"], ["z"]) == 0.0


def test_groundedness() -> None:
    passages = ["Replace the encoder cable KR-EC-0712 when SV-330 returns."]
    assert groundedness("Replace the encoder cable KR-EC-0712.", passages) == 1.0
    assert groundedness("Replace the gearbox.", passages) == pytest.approx(0.5)
    assert groundedness("", passages) == 0.0


def test_keyword_coverage() -> None:
    assert keyword_coverage("Torque to 220 Nm", ["220 nm", "loctite"]) == 0.5


def test_evaluate_retrieval_aggregates() -> None:
    items = [
        EvalQuestion("q1", "?", "P", ("a",)),
        EvalQuestion("q2", "?", "P", ("b", "c")),
    ]
    report = evaluate_retrieval([(items[0], ["a", "x"]), (items[1], ["x", "c"])], k=5)
    assert report.recall == pytest.approx(0.75)
    assert report.mrr == pytest.approx(0.75)
    assert report.as_dict()["recall@5"] == 0.75


def test_load_eval_set_reports_the_bad_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "eval.jsonl"
    good = {"id": "q1", "question": "?", "plant": "P", "relevant_doc_ids": ["a"]}
    path.write_text(json.dumps(good) + "\n{broken\n")
    with pytest.raises(ValueError, match=r"eval.jsonl:2"):
        load_eval_set(path)
