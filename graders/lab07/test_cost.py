"""Lab 07: the committed monthly cost estimate matches the configuration and the price table."""

from __future__ import annotations

from graders.lab07 import sections
from graders.lab07.cost import ESTIMATE_FILE, PRICING_FILE, CostModelError, committed_totals, recompute, totals
from graders.lab07.project import TerraformProject
from graders.sdk import Checklist, Submission, check, fail

TOLERANCE = 0.05
REGENERATE = "run `python scripts/estimate_cost.py` and commit terraform/cost-estimate.md"


@check(
    points=8,
    name="The committed cost estimate matches the configuration (within 5%)",
    section=sections.COST,
    assignment=True,
)
def test_cost_estimate(submission: Submission, project: TerraformProject, checklist: Checklist) -> None:
    if not submission.is_file(ESTIMATE_FILE):
        fail(f"{ESTIMATE_FILE} is missing: {REGENERATE}", ESTIMATE_FILE)
    pricing = submission.load_yaml(PRICING_FILE)
    try:
        expected = totals(recompute(project, pricing))
    except CostModelError as exc:
        fail(f"The configuration cannot be priced: {exc}", PRICING_FILE)
    if not expected:
        fail(f"No environment to price: add terraform/environments/<env>.tfvars files ({PRICING_FILE} prices them)")
    text = submission.read_text(ESTIMATE_FILE)
    committed = committed_totals(text)
    if not committed:
        fail(
            f"{ESTIMATE_FILE} has no '## Totals' table with one '| <environment> | <USD> |' row per environment; "
            f"{REGENERATE}",
            ESTIMATE_FILE,
        )
    as_of = str(pricing.get("as_of", "")) if isinstance(pricing, dict) else ""
    checklist.require(
        as_of and as_of in text,
        f"{ESTIMATE_FILE} does not name the price table date {as_of} of "
        f"{PRICING_FILE}: it was made from other prices; {REGENERATE}",
        ESTIMATE_FILE,
    )
    for env, amount in sorted(expected.items()):
        line = submission.find_line(ESTIMATE_FILE, f"| {env} |")
        where = f"{ESTIMATE_FILE}:{line}" if line else ESTIMATE_FILE
        if env not in committed:
            checklist.require(False, f"{ESTIMATE_FILE} has no total for {env}; {REGENERATE}", where, weight=3)
            continue
        difference = abs(committed[env] - amount) / amount if amount else abs(committed[env])
        checklist.require(
            difference <= TOLERANCE,
            f"{env}: the estimate says {committed[env]:,.2f} per month but the configuration and "
            f"{PRICING_FILE} give {amount:,.2f} ({difference:.0%} apart, over 5%): it is stale; "
            f"{REGENERATE}",
            where,
            weight=3,
        )
