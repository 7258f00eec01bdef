"""Evaluate retrieval (recall@k, MRR) and answers (keyword coverage, groundedness) on the eval set.

``python -m copilot.rag.evaluate`` prints the report for ``data/eval/rag_eval.jsonl`` as JSON; the
benchmark script and the tests use :func:`evaluate`.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.evaluation import EvalQuestion, evaluate_retrieval, groundedness, keyword_coverage, load_eval_set
from copilot.rag.extractive import ExtractiveGenerator
from copilot.rag.generation import Passage
from copilot.rag.retriever import Bm25Retriever

EVAL_SET = Path("eval") / "rag_eval.jsonl"
_CITATION = re.compile(r"\s*\[\d+\]")


def evaluate(retriever: Bm25Retriever, questions: Sequence[EvalQuestion], k: int = 5) -> dict[str, Any]:
    generator = ExtractiveGenerator()
    runs = []
    coverage, grounded = [], []
    for item in questions:
        found = retriever.search(item.question, item.plant, item.equipment, k)
        runs.append((item, [s.chunk.doc_id for s in found]))
        passages = [
            Passage(i, s.chunk.doc_id, s.chunk.title, s.chunk.section, s.chunk.text, s.score)
            for i, s in enumerate(found, 1)
        ]
        answer = _CITATION.sub("", generator.compose(item.question, passages))
        coverage.append(keyword_coverage(answer, item.answer_keywords))
        grounded.append(groundedness(answer, [p.text for p in passages]))
    report = evaluate_retrieval(runs, k=k).as_dict()
    report["answer_keyword_coverage"] = round(sum(coverage) / max(len(coverage), 1), 4)
    report["groundedness"] = round(sum(grounded) / max(len(grounded), 1), 4)
    report["index_version"] = retriever.version
    return report


def main(argv: Sequence[str] | None = None) -> int:
    from copilot.rag.corpus import load_corpus
    from copilot.rag.retriever import build_retriever
    from copilot.storage import open_document_store

    parser = argparse.ArgumentParser(prog="python -m copilot.rag.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data", help="data folder (documents/ and eval/)")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)
    store = open_document_store(args.data)
    retriever = build_retriever(load_corpus(store))
    questions = load_eval_set(Path(args.data) / EVAL_SET)
    print(json.dumps(evaluate(retriever, questions, args.k), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
