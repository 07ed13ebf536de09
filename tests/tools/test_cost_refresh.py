"""The price refresh reads GetProducts responses of the documented shape (it cannot reach AWS
here): the first paid tier, hourly prices made monthly, unit factors, paging, and a missing usage
type refused by name."""

from __future__ import annotations

import json

import pytest

from tools.cost.pricing import PriceSnapshot
from tools.cost.refresh import SOURCES, refresh
from tools.review_errors import ReviewError


def product(usage_type: str, unit: str, *tiers: tuple[str, str]) -> str:
    dimensions = {
        f"RATE.{i}": {"unit": unit, "beginRange": begin, "pricePerUnit": {"USD": usd}}
        for i, (begin, usd) in enumerate(tiers)
    }
    return json.dumps(
        {
            "product": {"attributes": {"usagetype": usage_type}},
            "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": dimensions}}},
        }
    )


def fake_api(missing: str = ""):
    """One product per source, each priced 2 per API unit beyond a free first tier; paged."""
    calls = []

    def get_products(**request):
        calls.append(request)
        service = request["ServiceCode"]
        items = [
            product(
                f"USE1-{source.usage_type}",
                "Hrs" if "Hour" in source.usage_type else "Units",
                ("0", "0.0000000000"),
                ("1", "2"),
            )
            for source in SOURCES.values()
            if source.service == service and source.usage_type != missing
        ]
        if "NextToken" not in request:
            return {"PriceList": items[:1], "NextToken": "page-2"}
        return {"PriceList": items[1:]}

    return get_products, calls


def test_refresh_reads_the_first_paid_tier_in_the_snapshots_units() -> None:
    get_products, calls = fake_api()
    document = refresh(get_products, ["us-east-1"], 0.02)
    snapshot = PriceSnapshot.model_validate(document)
    prices = snapshot.region("us-east-1")
    assert prices.dynamodb.write_request_units_per_million == 2e6
    assert prices.kms.requests_per10k == 2e4
    assert prices.cloudwatch.dashboard_month == 2 * 730  # an hourly price, made monthly
    assert prices.backup.dynamodb_warm_gb_month == 2
    assert prices.transfer.inter_region_gb == 0.02
    assert prices.budgets.budget_month == 0  # not a Price List product: kept
    assert prices.s3.put_requests_per1k == 2e3
    assert prices.s3.standard_gb_month == 2
    # Unverified AWS Backup figures are kept from the snapshot, never filled from a guessed type.
    assert prices.backup.restore_test_job == 1.50
    assert {c["Filters"][0]["Value"] for c in calls} == {"us-east-1"}
    assert any("NextToken" in c for c in calls)


def test_a_usage_type_the_price_list_no_longer_has_is_refused_by_name() -> None:
    get_products, _ = fake_api(missing="TimedPITRStorage-ByteHrs")
    with pytest.raises(ReviewError, match=r"us-east-1 dynamodb.pitrGbMonth: no paid .*PITR"):
        refresh(get_products, ["us-east-1"], 0.02)
