"""The CSV gradebook written by ``capstone grade-batch`` (one row per submission), and the merge of
the partial gradebooks that shards of one class write (``capstone gradebook merge``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from graders.engine.batch_row import BatchRow

__all__ = ["BatchRow", "GradebookError", "merge", "render"]


class GradebookError(Exception):
    """Partial gradebooks that do not make one class's gradebook; the message names the files."""


def render(rows: list[BatchRow], lab_ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *lab_ids, "total", "max_total", "status", "duration_s", "message"])
    for row in rows:
        scores: list[str] = []
        for lab_id in lab_ids:
            try:
                scores.append(str(row.report.lab(lab_id).score) if row.report else "")
            except KeyError:
                scores.append("")
        total = str(row.report.score) if row.report else ""
        max_total = str(row.report.max_score) if row.report else ""
        writer.writerow([row.submission, *scores, total, max_total, row.status, f"{row.duration_s:.2f}", row.message])
    return buffer.getvalue()


def merge(parts: list[tuple[str, str]], expect: list[str] | None = None) -> str:
    """One gradebook from partial ones (``(file name, CSV text)`` pairs), rows sorted like one batch's.

    Every part must have the same columns and no submission may appear twice; with ``expect`` (the
    class's submission folder names) every one of them must appear exactly once and no other.
    """
    if not parts:
        raise GradebookError("no partial gradebooks to merge")
    header: list[str] | None = None
    first = ""
    seen: dict[str, tuple[str, list[str]]] = {}
    for name, text in parts:
        table = list(csv.reader(io.StringIO(text)))
        if not table or not table[0] or table[0][0] != "submission":
            raise GradebookError(f"{name}: not a gradebook (its first column must be 'submission')")
        if header is None:
            header, first = table[0], name
        elif table[0] != header:
            raise GradebookError(
                f"{name}: its columns ({', '.join(table[0])}) differ from {first}'s ({', '.join(header)}); "
                "grade every shard with the same --lab options and kit version"
            )
        for row in table[1:]:
            if not row:
                continue
            if row[0] in seen:
                raise GradebookError(f"submission {row[0]!r} appears in both {seen[row[0]][0]} and {name}")
            seen[row[0]] = (name, row)
    assert header is not None
    if expect is not None:
        missing = sorted(set(expect) - set(seen))
        extra = sorted(set(seen) - set(expect))
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing from every part: {', '.join(missing)}")
            if extra:
                problems.append(f"not a submission folder of the class: {', '.join(extra)}")
            raise GradebookError("; ".join(problems))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for submission in sorted(seen, key=lambda s: Path(s)):  # submission_folders() order
        writer.writerow(seen[submission][1])
    return buffer.getvalue()
