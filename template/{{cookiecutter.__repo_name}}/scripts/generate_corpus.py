#!/usr/bin/env python3
"""Generate the maintenance logs and work orders of the plant corpus.

Writes ``data/documents/log-*.md`` (breakdown records) and ``data/documents/wo-*.md`` (preventive
maintenance work orders) from the equipment registry (``data/equipment.yaml``) and the templates in
``data/generator/catalog.yaml``. Hand-written manuals, SOPs, bulletins and reports live in the same
folder under other prefixes and are never touched.

The output is a pure function of the seed and those two files: no clock, no network, no hash
randomisation. Equipment is processed in file order and text is never wrapped or sorted by plant
values, so the template build's literal substitution of the plant code gives the same bytes as
regenerating with the substituted registry.

Usage::

    python scripts/generate_corpus.py            # rewrite the generated documents in data/documents
    python scripts/generate_corpus.py --check    # exit 1 if the committed documents are stale
    python scripts/generate_corpus.py --out DIR  # write into another folder

Exit status: 0 done (or up to date), 1 out of date (``--check``), 2 bad input (the message names
the file and the fix).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SEED = 20261101
FIRST_DAY = dt.date(2025, 1, 6)
LAST_DAY = dt.date(2026, 10, 30)
GENERATED_PREFIXES = ("log-", "wo-")
LOGS_PER_ITEM = {"A": (4, 6), "B": (2, 4), "C": (1, 2)}
ORDERS_PER_TASK = (1, 2)
SHIFTS = (("early", 6), ("late", 14), ("night", 22))
PRIORITY_BY_CRITICALITY = {"A": 1, "B": 2, "C": 3}
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_NAMED_RANGE = re.compile(r"\{(?:(\w+)=)?(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)\}")
_CHOICE = re.compile(r"\{([^{}|]*(?:\|[^{}|]*)+)\}")
_NAME = re.compile(r"\{(\w+)\}")


class CorpusError(ValueError):
    """Bad input to the generator; the message names the file and the fix."""


@dataclass(frozen=True)
class Equipment:
    id: str
    name: str
    type: str
    line: str
    plant: str
    manufacturer: str
    model: str
    criticality: str
    position: int

    @property
    def suffix(self) -> str:
        """The id without its plant code (``PRS-101``): document ids must not carry plant codes."""
        return self.id.split("-", 1)[1]


@dataclass
class Planned:
    """One document to write, decided in the planning pass before any text is produced."""

    kind: str  # "log" or "wo"
    day: dt.date
    equipment: Equipment
    template: dict[str, Any]
    cause: dict[str, Any] | None = None
    number: str = ""
    doc_id: str = ""
    history: list[Planned] = field(default_factory=list)


def load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{path}: file not found; run from the capstone repository or pass --data-dir") from None
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: not valid YAML ({exc}); fix the syntax and rerun") from None


def load_equipment(path: Path) -> list[Equipment]:
    data = load_yaml(path)
    items = data.get("equipment") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise CorpusError(f"{path}: expected a top-level 'equipment:' list of items")
    fields = ("id", "name", "type", "line", "plant", "manufacturer", "model", "criticality")
    result = []
    for position, item in enumerate(items):
        missing = [key for key in fields if not isinstance(item, dict) or not item.get(key)]
        if missing:
            raise CorpusError(f"{path}: equipment item {position + 1} lacks {', '.join(missing)}")
        if item["criticality"] not in LOGS_PER_ITEM:
            raise CorpusError(f"{path}: {item['id']} has criticality {item['criticality']!r}; use A, B or C")
        result.append(Equipment(**{key: str(item[key]) for key in fields}, position=position))
    return result


def load_catalog(path: Path) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict) or not all(key in data for key in ("failure_modes", "pm_tasks")):
        raise CorpusError(f"{path}: expected 'technicians', 'requesters', 'failure_modes' and 'pm_tasks' sections")
    for section in ("technicians", "requesters"):
        if not isinstance(data.get(section), dict) or not data[section].get("default"):
            raise CorpusError(f"{path}: '{section}' needs a 'default' list (plants without their own list use it)")
    for section in ("failure_modes", "pm_tasks"):
        for entry in data[section]:
            if not entry.get("id") or not entry.get("type"):
                raise CorpusError(f"{path}: every entry of '{section}' needs an 'id' and a 'type' ({entry!r})")
    return data


def applies(entry: dict[str, Any], equipment: Equipment) -> bool:
    """A template applies when the type matches and the model starts with one of its prefixes."""
    if entry["type"] != equipment.type:
        return False
    prefixes = entry.get("model")
    if prefixes is None:
        return True
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    return any(equipment.model.startswith(prefix) for prefix in prefixes)


def roster(catalog: dict[str, Any], key: str, plant: str) -> list[str]:
    """People of a plant; the capstone's own plant uses the default list, whatever its code."""
    section = catalog.get(key) or {}
    return list(section.get(plant) or section["default"])


class Renderer:
    """Expands the catalog's template syntax with one document's random generator."""

    def __init__(self, rng: random.Random, context: dict[str, str]) -> None:
        self.rng = rng
        self.context = dict(context)

    def __call__(self, template: str) -> str:
        text = _CHOICE.sub(lambda m: self.rng.choice(m.group(1).split("|")), template)
        text = _NAMED_RANGE.sub(self._number, text)
        return _NAME.sub(self._name, text)

    def _number(self, match: re.Match[str]) -> str:
        name, low, high = match.groups()
        decimals = len(low.split(".")[1]) if "." in low else 0
        if decimals:
            value = f"{self.rng.uniform(float(low), float(high)):.{decimals}f}"
        else:
            value = str(self.rng.randint(int(low), int(high)))
        if name:
            self.context[name] = value
        return value

    def _name(self, match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in self.context:
            raise CorpusError(f"catalog template uses {{{key}}}, which is not defined; define it with {{{key}=a..b}}")
        return self.context[key]


def random_day(rng: random.Random) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def plan(equipment: Sequence[Equipment], catalog: dict[str, Any], seed: int) -> list[Planned]:
    """Decide which documents exist, their dates and templates, and number the work orders."""
    rng = random.Random(f"{seed}:plan")
    planned: list[Planned] = []
    for item in equipment:
        modes = [mode for mode in catalog["failure_modes"] if applies(mode, item)]
        tasks = [task for task in catalog["pm_tasks"] if applies(task, item)]
        if not modes and not tasks:
            print(
                f"warning: no failure mode or PM task in the catalog applies to {item.id} ({item.type})",
                file=sys.stderr,
            )
        if modes:
            rng.shuffle(modes)
            low, high = LOGS_PER_ITEM[item.criticality]
            for index in range(rng.randint(low, high)):
                mode = modes[index % len(modes)]
                planned.append(Planned("log", random_day(rng), item, mode, cause=rng.choice(mode["causes"])))
        for task in tasks:
            for _ in range(rng.randint(*ORDERS_PER_TASK)):
                planned.append(Planned("wo", random_day(rng), item, task))
    planned.sort(key=lambda p: (p.day, p.equipment.position, p.kind, p.template["id"]))
    number_rng = random.Random(f"{seed}:numbers")
    counters: dict[int, int] = {}
    used_ids: set[str] = set()
    for entry in planned:
        year = entry.day.year % 100
        counters[year] = counters.get(year, number_rng.randint(1200, 1900)) + number_rng.randint(3, 40)
        entry.number = f"WO-{year:02d}-{counters[year]:05d}"
        if entry.kind == "wo":
            entry.doc_id = entry.number.lower()
        else:
            base = f"log-{entry.day:%Y%m%d}-{entry.equipment.suffix.lower()}"
            entry.doc_id, n = base, 2
            while entry.doc_id in used_ids:
                entry.doc_id, n = f"{base}-{n}", n + 1
        used_ids.add(entry.doc_id)
    for index, entry in enumerate(planned):
        entry.history = [
            earlier
            for earlier in planned[:index]
            if earlier.kind == "log" and earlier.equipment is entry.equipment and earlier.template is entry.template
        ]
    return planned


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: dt.date) -> str:
    """English dates whatever the machine's locale (strftime's %A/%B follow the locale)."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def front_matter(meta: dict[str, Any]) -> str:
    """YAML front matter written by hand so its bytes never depend on the PyYAML version."""
    lines = ["---"]
    for key, value in meta.items():
        if isinstance(value, list):
            lines.append(f"{key}: [{', '.join(value)}]")
        elif key in ("title", "revision", "effective_date"):
            lines.append(f'{key}: "{value}"')
        else:
            lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def sentence_list(items: Iterable[str]) -> str:
    return " ".join(item if item.endswith(".") else item + "." for item in items)


def shift_and_time(rng: random.Random) -> tuple[str, str, str]:
    """A shift name, a time in it and a time some hours later for the hand-back."""
    name, start = rng.choice(SHIFTS)
    minutes = rng.randrange(0, 7 * 60)
    at = (start * 60 + minutes) % (24 * 60)
    back = (at + rng.randrange(45, 5 * 60)) % (24 * 60)
    return name, f"{at // 60:02d}:{at % 60:02d}", f"{back // 60:02d}:{back % 60:02d}"


def next_working_day(day: dt.date) -> dt.date:
    following = day + dt.timedelta(days=1)
    while following.weekday() >= 5:
        following += dt.timedelta(days=1)
    return following


def production_impact(eq: Equipment, downtime: int, catalog: dict[str, Any]) -> str:
    """Only criticality A stops the line; the catalog's ``line_output`` gives what a stopped hour costs."""
    rate = (catalog.get("line_output") or {}).get(eq.line)
    if eq.criticality != "A" or not rate:
        return f"No output was lost on line {eq.line}; the schedule was recovered within the shift."
    lost = round(rate["per_hour"] * downtime / 60)
    return f"Estimated lost output on line {eq.line}: {lost} {rate['unit']}."


def render_log(entry: Planned, catalog: dict[str, Any], seed: int) -> str:
    eq, mode, cause = entry.equipment, entry.template, entry.cause
    assert cause is not None
    rng = random.Random(f"{seed}:{entry.doc_id}")
    technicians = rng.sample(roster(catalog, "technicians", eq.plant), 2)
    shift, at, back = shift_and_time(rng)
    alarm = mode.get("alarm")
    render = Renderer(rng, {"alarm": alarm or "", "alarm_text": mode["alarm_text"], "shift": shift, "line": eq.line})
    headline = f"{alarm} {mode['alarm_text']}" if alarm else mode["alarm_text"]
    downtime = rng.randint(20, 240) if eq.criticality != "C" else rng.randint(10, 90)
    requester = render(rng.choice(roster(catalog, "requesters", eq.plant)))
    checks = [mode["checks"][i] for i in sorted(rng.sample(range(len(mode["checks"])), min(4, len(mode["checks"]))))]
    impact = {
        "A": f"line {eq.line} stood still until the repair, so the call was handled as priority 1",
        "B": f"line {eq.line} ran on at reduced output, and the call was handled as priority 2",
        "C": f"a workaround kept line {eq.line} running, and the call was handled as priority 3",
    }[eq.criticality]
    if entry.history:
        last = entry.history[-1]
        history = (
            f"The CMMS history shows {len(entry.history)} earlier {headline} event(s) on {eq.id} in this period; "
            f"the last one was on {last.day.isoformat()} (maintenance log {last.doc_id})."
        )
    else:
        since = f"{MONTHS[FIRST_DAY.month - 1]} {FIRST_DAY.year}"
        history = f"The CMMS history shows no earlier {headline} event on {eq.id} since {since}."
    event = (
        f"{long_date(entry.day)}, {shift} shift, {at}. {eq.name} {eq.id} ({eq.manufacturer} {eq.model}) "
        f"on line {eq.line}: {headline}. {render(rng.choice(mode['symptoms']))} Criticality {eq.criticality} "
        f"equipment: {impact}. "
        f"Reported by {requester}; attended by {technicians[0]} with {technicians[1]}.\n\n"
        f"Checks: {sentence_list(render(check) for check in checks)} {history}\n\n"
        f"Finding: {render(cause['finding'])}"
    )
    parts = cause.get("parts") or []
    parts_text = f"Parts used: {', '.join(parts)}, booked from stores." if parts else "No spare parts were used."
    follow = cause.get("follow_up") or rng.choice(mode.get("follow_ups") or ["No further action."])
    repair_minutes = max(10, round(rng.uniform(0.3, 0.8) * downtime / 5) * 5)
    repair = (
        f"Action: {render(cause['action'])} {parts_text}\n\n"
        f"Downtime {downtime} minutes from the stop to the hand-back, of which {repair_minutes} minutes of repair "
        f"work; labour and parts booked on work order {entry.number}. {production_impact(eq, downtime, catalog)} "
        f"Machine handed back to production at {back} and signed off by {technicians[0]} and the {eq.line} shift "
        f"leader. Reviewed at the {eq.line} maintenance meeting on {next_working_day(entry.day).isoformat()}.\n\n"
        f"Follow-up: {render(follow)}"
    )
    meta = {
        "id": entry.doc_id,
        "title": f"Maintenance log {entry.day.isoformat()}: {eq.id} {headline}",
        "doc_type": "maintenance_log",
        "equipment": [eq.id],
        "plant": eq.plant,
        "line": eq.line,
        "revision": "1",
        "effective_date": entry.day.isoformat(),
        "technician": technicians[0],
        "work_order": entry.number,
    }
    return f"{front_matter(meta)}\n## Event and diagnosis\n\n{event}\n\n## Repair and close-out\n\n{repair}\n"


def render_work_order(entry: Planned, catalog: dict[str, Any], seed: int) -> str:
    eq, task = entry.equipment, entry.template
    rng = random.Random(f"{seed}:{entry.doc_id}")
    technicians = rng.sample(roster(catalog, "technicians", eq.plant), 2)
    shift, at, back = shift_and_time(rng)
    render = Renderer(rng, {"shift": shift, "line": eq.line})
    hours = float(render(task["hours"]))
    priority = PRIORITY_BY_CRITICALITY[eq.criticality]
    due = entry.day + dt.timedelta(days=rng.randint(0, 6))
    window = rng.choice(
        [
            "during the weekend maintenance shift",
            "in the planned maintenance window",
            "during a model changeover",
            "in a production break agreed with the shift leader",
        ]
    )
    steps = "\n".join(f"{number}. {render(step)}" for number, step in enumerate(task["steps"], start=1))
    parts = task.get("parts") or []
    request = (
        f"Work order {entry.number}, preventive maintenance, priority {priority}, generated by the CMMS from the "
        f"PM master plan for {eq.name} {eq.id} ({eq.manufacturer} {eq.model}), line {eq.line}, criticality "
        f"{eq.criticality}. Task: {task['title']}, interval {task['interval']}. Due on {due.isoformat()}; "
        f"planned for the {shift} shift on {entry.day.isoformat()} {window}, starting at {at}, estimated "
        f"{hours:.1f} hours.\n\n"
        f"Safety: isolate and lock out the equipment following the {eq.plant} lockout/tagout SOP and the energy "
        f"isolation sheet EIP-{eq.suffix}, and verify zero energy before work starts.\n\n{steps}\n\n"
        f"Parts reserved: {', '.join(parts) if parts else 'none; consumables from the line store'}. Acceptance: "
        "record every measured value in the work order; a value outside its specification is reported to the "
        "maintenance planner and raised as a corrective work order before the equipment is handed back."
    )
    actual = max(0.5, hours + rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0]))
    helper_hours = max(0.5, actual - rng.choice([0.0, 0.5, 1.0]))
    next_due = entry.day + dt.timedelta(days=int(task["interval_days"]))
    year, week, _ = entry.day.isocalendar()
    completion = (
        f"Completed on {entry.day.isoformat()}. Labour: {technicians[0]} {actual:.1f} hours, {technicians[1]} "
        f"{helper_hours:.1f} hours. Materials: {', '.join(parts) if parts else 'no spare parts'}.\n\n"
        f"Findings: {render(rng.choice(task['findings']))}\n\n"
        f"Steps 1 to {len(task['steps'])} done as planned; locks removed by {technicians[0]} after checking that "
        f"tools and people were clear. Equipment handed back to the {eq.line} shift leader at {back} after a "
        "functional test. Measured values "
        f"entered as CMMS readings for {eq.id}; PM compliance updated for week {week} of {year}. Next due around "
        f"{next_due.isoformat()} ({task['interval']}). Status: closed, reviewed by the maintenance planner on "
        f"{next_working_day(entry.day).isoformat()}."
    )
    meta = {
        "id": entry.doc_id,
        "title": f"Work order {entry.number}: {task['title']}, {eq.id}",
        "doc_type": "work_order",
        "equipment": [eq.id],
        "plant": eq.plant,
        "line": eq.line,
        "revision": "1",
        "effective_date": entry.day.isoformat(),
        "technician": technicians[0],
        "work_order": entry.number,
        "priority": priority,
        "status": "closed",
    }
    return f"{front_matter(meta)}\n## Request and job plan\n\n{request}\n\n## Completion\n\n{completion}\n"


def generate(data_dir: Path, seed: int = SEED) -> dict[str, str]:
    """Return the generated corpus as ``{file name: text}``."""
    equipment = load_equipment(data_dir / "equipment.yaml")
    catalog_path = data_dir / "generator" / "catalog.yaml"
    catalog = load_catalog(catalog_path)
    documents = {}
    for entry in plan(equipment, catalog, seed):
        render = render_log if entry.kind == "log" else render_work_order
        try:
            documents[f"{entry.doc_id}.md"] = render(entry, catalog, seed)
        except (CorpusError, KeyError, TypeError, ValueError) as exc:
            raise CorpusError(f"{catalog_path}: entry '{entry.template['id']}': {exc!s}") from None
    return documents


def generated_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {path.name: path for path in folder.glob("*.md") if path.name.startswith(GENERATED_PREFIXES)}


def write(folder: Path, documents: dict[str, str]) -> tuple[int, int]:
    """Write the documents and remove generated files that are no longer produced."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = [path for name, path in generated_files(folder).items() if name not in documents]
    for path in stale:
        path.unlink()
    for name, text in documents.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return len(documents), len(stale)


def differences(folder: Path, documents: dict[str, str]) -> list[str]:
    """What ``--check`` reports: files missing, stale or different from a fresh generation."""
    existing = generated_files(folder)
    problems = [f"missing: {name}" for name in sorted(documents) if name not in existing]
    problems += [f"stale: {name}" for name in sorted(existing) if name not in documents]
    problems += [
        f"differs: {name}"
        for name in sorted(documents)
        if name in existing and existing[name].read_bytes() != documents[name].encode("utf-8")
    ]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder with equipment.yaml and generator/")
    parser.add_argument("--out", type=Path, help="output folder (default: DATA_DIR/documents)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED}, the committed corpus)")
    parser.add_argument("--check", action="store_true", help="compare with the folder instead of writing")
    args = parser.parse_args(argv)
    out = args.out or args.data_dir / "documents"
    try:
        documents = generate(args.data_dir, args.seed)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        problems = differences(out, documents)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"{len(problems)} generated document(s) out of date in {out}; rerun without --check", file=sys.stderr)
            return 1
        print(f"{len(documents)} generated documents up to date in {out}")
        return 0
    written, removed = write(out, documents)
    print(f"wrote {written} documents to {out} (removed {removed} stale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
