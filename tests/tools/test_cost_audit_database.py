"""make cost prices the audit database: instance hours and gp3 storage twice with a Multi-AZ
standby, automated backups beyond the free 100 % of storage, Performance Insights free at 7 days;
an instance class the snapshot lacks is one clear error."""

from __future__ import annotations

import pytest

from stackspec.stack_file import PROJECT_DIR
from tools.cost.estimate import estimate
from tools.cost.pricing import load_snapshot
from tools.cost.usage import load_usage
from tools.gate.plan_input import parse_plan
from tools.plan import Plan
from tools.review_errors import ReviewError


def _estimate(doc: dict, stack: str):
    return estimate(
        parse_plan(doc, source=stack),
        load_usage(PROJECT_DIR / f"usage.{stack}.yaml"),
        load_snapshot(),
        region="us-east-1",
        usage_source=f"usage.{stack}.yaml",
    )


def _line(plan: Plan, stack: str):
    (line,) = [
        line for line in _estimate(plan.to_json(), stack).lines if line.name == "audit-db-instance"
    ]
    return line


def test_dev_single_az_micro(dev_plan: Plan) -> None:
    line = _line(dev_plan, "dev")
    assert [(p.label, round(p.usd, 2)) for p in line.parts] == [
        ("db.t4g.micro single-AZ, 730 h", 11.68),
        ("20 GB gp3 single-AZ", 2.30),
        ("2 GB automated backups, 0 GB beyond the free 20 GB", 0.0),
        ("Performance Insights 7 days: free", 0.0),
    ]


def test_prod_multi_az_doubles_instance_and_storage(prod_plan: Plan) -> None:
    line = _line(prod_plan, "prod")
    assert [(p.label, round(p.usd, 2)) for p in line.parts] == [
        ("db.r6g.large Multi-AZ, 730 h", 328.50),
        ("100 GB gp3 Multi-AZ", 23.00),
        ("150 GB automated backups, 50 GB beyond the free 100 GB", 4.75),
        ("Performance Insights 7 days: free", 0.0),
    ]
    assert round(line.monthly_usd, 2) == 356.25


def test_an_unknown_instance_class_is_one_clear_error(dev_plan: Plan) -> None:
    doc = dev_plan.to_json()
    for resource in doc["resources"]:
        if resource["name"] == "audit-db-instance":
            resource["inputs"]["instanceClass"] = "db.x2g.16xlarge"
    with pytest.raises(ReviewError, match=r"no RDS price for instance class 'db\.x2g\.16xlarge'"):
        _estimate(doc, "dev")
