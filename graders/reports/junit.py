"""JUnit XML: one ``testsuite`` per lab, one ``testcase`` per check, scores as properties.

When checks could not run for want of a tool, every suite carries a ``missing_tools`` property
(the banner) and the banner as its ``system-out``, the two places CI viewers show.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from graders.engine.model import GradeReport, Status
from graders.reports.missing_tools import missing_tools_lines


def render(report: GradeReport) -> str:
    suites = ET.Element("testsuites", name="capstone", tests=str(sum(len(lab.checks) for lab in report.labs)))
    banner = "\n".join(missing_tools_lines(report))
    for lab in report.labs:
        counts = lab.counts
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=lab.id,
            tests=str(len(lab.checks)),
            failures=str(counts["failed"]),
            errors=str(counts["error"]),
            skipped=str(counts["skipped"]),
            time=f"{lab.duration_s:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="title", value=lab.title)
        ET.SubElement(props, "property", name="score", value=str(lab.score))
        ET.SubElement(props, "property", name="max_score", value=str(lab.max_score))
        if banner:
            ET.SubElement(props, "property", name="missing_tools", value=banner)
        for c in lab.checks:
            case = ET.SubElement(suite, "testcase", classname=lab.id, name=c.id, time=f"{c.duration_s:.3f}")
            if c.location:
                case.set("file", c.location.file)
                if c.location.line is not None:
                    case.set("line", str(c.location.line))
            cprops = ET.SubElement(case, "properties")
            ET.SubElement(cprops, "property", name="name", value=c.name)
            ET.SubElement(cprops, "property", name="score", value=str(c.score))
            ET.SubElement(cprops, "property", name="max_score", value=str(c.max_score))
            message = c.feedback.splitlines()[0] if c.feedback else c.status.value
            if c.status is Status.FAILED:
                ET.SubElement(
                    case, "failure", message=message, type="partial" if c.score else "failed"
                ).text = c.feedback
            elif c.status is Status.ERROR:
                ET.SubElement(case, "error", message=message).text = c.feedback
            elif c.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=message)
        if banner:
            ET.SubElement(suite, "system-out").text = banner
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
