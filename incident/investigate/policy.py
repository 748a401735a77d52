"""The least-privilege policy of `irready investigate`: name the key's owner, list and
read the trail's log files and decrypt them through S3, search CloudTrail's event
history in every enabled region, and query the Athena table (which writes its results
to the query-results bucket: Athena's one write, and nothing in the account changes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from auditor.errors import UsageError
from incident.investigate.source_spec import BUCKET

RESULTS_BUCKET = "aws-athena-query-results-*"  # the console's default results buckets


def investigate_policy(buckets: Sequence[str], results_bucket: str = RESULTS_BUCKET) -> str:
    for bucket in buckets:
        if not BUCKET.fullmatch(bucket):
            raise UsageError(f"--bucket: {bucket!r} is not an S3 bucket name")
    names = sorted(set(buckets)) or ["*"]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NameTheKeysOwner", "Effect": "Allow",
             "Action": ["iam:GetAccessKeyLastUsed", "sts:GetAccessKeyInfo",
                        "sts:GetCallerIdentity"],
             "Resource": "*"},
            {"Sid": "ListTheTrailsLogFiles", "Effect": "Allow",
             "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{name}" for name in names]},
            {"Sid": "ReadTheTrailsLogFiles", "Effect": "Allow",
             "Action": ["s3:GetObject"],
             "Resource": [f"arn:aws:s3:::{name}/*" for name in names]},
            {"Sid": "DecryptLogFilesThroughS3", "Effect": "Allow",
             "Action": ["kms:Decrypt"], "Resource": "*",
             "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
            {"Sid": "SearchEventHistoryInEveryRegion", "Effect": "Allow",
             "Action": ["cloudtrail:LookupEvents", "ec2:DescribeRegions"],
             "Resource": "*"},
            *athena_statements(results_bucket),
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def athena_statements(results_bucket: str = RESULTS_BUCKET) -> list[dict[str, Any]]:
    """Query the audited Athena table and write its results: shared with the detection
    drill's `--source athena`, so the two policies cannot drift apart."""
    if results_bucket != RESULTS_BUCKET and not BUCKET.fullmatch(results_bucket):
        raise UsageError(f"--results-bucket: {results_bucket!r} is not an S3 bucket name")
    return [
        {"Sid": "QueryTheAthenaTable", "Effect": "Allow",
         "Action": ["athena:GetQueryExecution", "athena:GetQueryResults",
                    "athena:StartQueryExecution", "athena:StopQueryExecution",
                    "glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"],
         "Resource": "*"},
        {"Sid": "WriteAthenaQueryResults", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                    "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{results_bucket}",
                      f"arn:aws:s3:::{results_bucket}/*"]},
    ]
