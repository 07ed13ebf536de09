"""Refresh ``pricing/aws-prices.yaml`` from the AWS Price List Query API (``GetProducts``).

Needs network access and AWS credentials allowed ``pricing:GetProducts`` (the API is served from
us-east-1); it cannot run offline, so the snapshot in the repository was written by hand from the
published pricing pages and this script was written against the API's documented response shape:
``PriceList`` is a list of JSON strings, each ``{"product": {"attributes": {"usagetype": ...}},
"terms": {"OnDemand": {<offer term>: {"priceDimensions": {<rate code>: {"unit": ...,
"beginRange": ..., "pricePerUnit": {"USD": ...}}}}}}}``. ``tests/tools/test_cost_refresh.py``
feeds it responses of that shape.

    .venv/bin/python -m tools.cost.refresh [--out pricing/aws-prices.yaml] [--regions us-east-1 ...]

Review the diff before committing: a usage type AWS renamed is an error naming it, never a zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.cost.pricing import SNAPSHOT, load_snapshot
from tools.review_errors import USAGE_ERROR, ReviewError


@dataclass(frozen=True)
class Source:
    """Where one snapshot price comes from: a service, a usage type (its region prefix differs by
    region, so it is matched as a suffix) and the factor from the API's unit to the snapshot's."""

    service: str
    usage_type: str
    factor: float = 1.0


HOURS_PER_MONTH = 730

SOURCES: dict[tuple[str, str], Source] = {
    ("dynamodb", "writeRequestUnitsPerMillion"): Source("AmazonDynamoDB", "WriteRequestUnits", 1e6),
    ("dynamodb", "readRequestUnitsPerMillion"): Source("AmazonDynamoDB", "ReadRequestUnits", 1e6),
    ("dynamodb", "storageGbMonth"): Source("AmazonDynamoDB", "TimedStorage-ByteHrs"),
    ("dynamodb", "pitrGbMonth"): Source("AmazonDynamoDB", "TimedPITRStorage-ByteHrs"),
    ("dynamodb", "streamReadRequestUnitsPer100K"): Source(
        "AmazonDynamoDB", "Streams-RequestsCount", 1e5
    ),
    ("kms", "keyMonth"): Source("awskms", "KMS-Keys"),
    ("kms", "requestsPer10K"): Source("awskms", "KMS-Requests", 1e4),
    ("cloudwatch", "alarmMetricMonth"): Source("AmazonCloudWatch", "CW:AlarmMonitorUsage"),
    ("cloudwatch", "dashboardMonth"): Source("AmazonCloudWatch", "DashboardsUsageHour-Basic"),
    ("cloudwatch", "contributorInsightsRuleMonth"): Source(
        "AmazonCloudWatch", "CW:ContributorInsightRules"
    ),
    ("cloudwatch", "contributorInsightsEventsPerMillion"): Source(
        "AmazonCloudWatch", "CW:ContributorInsightEvents", 1e6
    ),
    ("cloudwatch", "logsIngestedGb"): Source("AmazonCloudWatch", "DataProcessing-Bytes"),
    ("sns", "publishesPerMillion"): Source("AmazonSNS", "Requests-Tier1", 1e6),
    ("sns", "emailDeliveriesPer100K"): Source("AmazonSNS", "DeliveryAttempts-SMTP", 1e5),
    ("backup", "dynamodbWarmGbMonth"): Source("AWSBackup", "WarmStorage-ByteHrs-DynamoDB"),
    ("backup", "dynamodbColdGbMonth"): Source("AWSBackup", "ColdStorage-ByteHrs-DynamoDB"),
    ("transfer", "internetOutGb"): Source("AWSDataTransfer", "DataTransfer-Out-Bytes"),
    ("s3", "standardGbMonth"): Source("AmazonS3", "TimedStorage-ByteHrs"),
    ("s3", "putRequestsPer1K"): Source("AmazonS3", "Requests-Tier1", 1e3),
    ("s3", "getRequestsPer1K"): Source("AmazonS3", "Requests-Tier2", 1e3),
    ("cloudtrail", "dataEventsPer100K"): Source("AWSCloudTrail", "DataEventsRecorded", 1e5),
    ("cloudtrail", "managementEventsCopyPer100K"): Source(
        "AWSCloudTrail", "PaidEventsRecorded", 1e5
    ),
    ("vpc", "interfaceEndpointAzHour"): Source("AmazonVPC", "VpcEndpoint-Hours"),
    ("vpc", "interfaceEndpointGb"): Source("AmazonVPC", "VpcEndpoint-Bytes"),
    ("vpc", "flowLogsIngestedGb"): Source("AmazonCloudWatch", "VendedLog-Bytes"),
}

#: Prices the Price List does not list as a product of their own: kept from the snapshot.
KEPT = {("kms", "rotationAddMonth"), ("kms", "maxRotationAdds"), ("budgets", "budgetMonth")}
#: Per-storage-class maps (one Price List product per class and region): kept from the snapshot
#: until their usage types are mapped; refreshing never fills them with a guess.
KEPT |= {("s3", "storageClassGbMonth"), ("s3", "transitionsPer1K")}
#: Node-hours are one product per node type and engine: kept until refresh reads them per type.
KEPT |= {
    ("elasticache", "valkeyNodeHour"),
    ("elasticache", "snapshotGbMonth"),
    ("secretsmanager", "secretMonth"),
    ("secretsmanager", "apiCallsPer10K"),
}
#: Also kept from the snapshot until their AWSBackup usage types are confirmed against the Price
#: List (the snapshot marks their figures unverified): DynamoDB restore per GB, a restore test job,
#: Audit Manager control evaluations. Refreshing never fills them with a guess.
KEPT |= {
    ("backup", "dynamodbRestoreGb"),
    ("backup", "restoreTestJob"),
    ("backup", "controlEvaluationsPer1K"),
}
#: Kept until their usage types (AWSLambda Lambda-GB-Second[-ARM], Request; AWSQueueService
#: standard requests) are confirmed against the Price List: the figures are AWS's published
#: us-east-1/us-west-2 prices of 2026-12-01.
KEPT |= {
    ("lambda", "armGbSecond"),
    ("lambda", "x86GbSecond"),
    ("lambda", "requestsPerMillion"),
    ("sqs", "requestsPerMillion"),
}

#: RDS prices are kept from the snapshot too: instance hours are per class (a map, not one usage
#: type), and the storage, backup and Performance Insights usage types are not yet confirmed.
KEPT |= {
    ("rds", "instanceHour"),
    ("rds", "vcpus"),
    ("rds", "gp3GbMonth"),
    ("rds", "backupGbMonth"),
    ("rds", "performanceInsightsVcpuMonth"),
}

GetProducts = Callable[..., dict[str, Any]]


def _products(get_products: GetProducts, service: str, region: str) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        request: dict[str, Any] = {
            "ServiceCode": service,
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
            "FormatVersion": "aws_v1",
        }
        if token:
            request["NextToken"] = token
        page = get_products(**request)
        for text in page.get("PriceList", []):
            yield json.loads(text)
        token = page.get("NextToken")
        if not token:
            return


def _price(products: list[dict[str, Any]], source: Source, where: str) -> float:
    """The first paid tier's USD price of the product whose usage type ends with the source's."""
    for product in products:
        usage_type = str(product.get("product", {}).get("attributes", {}).get("usagetype", ""))
        if not usage_type.endswith(source.usage_type):
            continue
        tiers = [
            dim
            for term in product.get("terms", {}).get("OnDemand", {}).values()
            for dim in term.get("priceDimensions", {}).values()
        ]
        paid = sorted(
            (float(d.get("beginRange", 0) or 0), float(d["pricePerUnit"]["USD"]), str(d["unit"]))
            for d in tiers
            if float(d["pricePerUnit"]["USD"]) > 0
        )
        if paid:
            _, usd, unit = paid[0]
            per_month = HOURS_PER_MONTH if unit.lower() in ("hrs", "hours", "hour") else 1
            return usd * per_month * source.factor
    raise ReviewError(
        f"{where}: no paid {source.service} product with usage type *{source.usage_type}"
    )


def refresh(
    get_products: GetProducts, regions: list[str], inter_region_gb: float
) -> dict[str, Any]:
    """The snapshot document with today's prices for ``regions``."""
    current = load_snapshot()
    document: dict[str, Any] = {
        "snapshot": {
            "date": dt.date.today().isoformat(),
            "source": "AWS Price List Query API (GetProducts), on-demand list prices, first paid "
            "tier, no free tier",
            "currency": "USD",
        },
        "regions": {},
    }
    for region in regions:
        known = current.regions.get(region) or next(iter(current.regions.values()))
        values = known.model_dump(by_alias=True)
        cache: dict[str, list[dict[str, Any]]] = {}
        for (group, key), source in SOURCES.items():
            if source.service not in cache:
                cache[source.service] = list(_products(get_products, source.service, region))
            values[group][key] = round(
                _price(cache[source.service], source, f"{region} {group}.{key}"), 6
            )
        # Inter-region transfer is priced per region pair; pass the pair's published rate.
        values["transfer"]["interRegionGb"] = inter_region_gb
        for group, key in KEPT:
            values[group][key] = known.model_dump(by_alias=True)[group][key]
        document["regions"][region] = values
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost.refresh", description=__doc__)
    parser.add_argument("--out", type=Path, default=SNAPSHOT)
    parser.add_argument("--regions", nargs="+", default=["us-east-1", "us-west-2"])
    parser.add_argument("--inter-region-gb", type=float, default=0.02)
    args = parser.parse_args(argv)
    import boto3

    client = boto3.client("pricing", region_name="us-east-1")
    try:
        document = refresh(client.get_products, args.regions, args.inter_region_gb)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    header = "# AWS list prices used by `make cost`; written by tools/cost/refresh.py.\n"
    args.out.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    print(f"wrote {args.out}; review the diff before committing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
