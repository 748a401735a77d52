"""The least-privilege policy of `irready drill detect`: read the canary (to prove it
can do nothing), create and delete its keys and nothing else, find the trails, search
event history, and list and read the trail's log files (decrypted through S3); with
Athena (`--source athena`), also query the audited table, as `irready policy
investigate` does, whose one write is Athena's, of results into the results bucket.
The key actions are scoped to the canary users; GetCallerIdentity needs no permission."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from auditor.errors import UsageError
from drills.engine.preflight import USER_NAME
from incident.investigate.policy import RESULTS_BUCKET, athena_statements
from incident.investigate.source_spec import BUCKET


def detect_policy(canaries: Sequence[str], buckets: Sequence[str] = (), *,
                  athena: bool = False, results_bucket: str = RESULTS_BUCKET
                  ) -> dict[str, Any]:
    if not canaries:
        raise UsageError("no canary users: list them in [drill] canaries in the config, or "
                         "pass --user NAME")
    for name in canaries:
        if not USER_NAME.fullmatch(name):
            raise UsageError(f"--user: {name!r} is not an IAM user name")
    for bucket in buckets:
        if not BUCKET.fullmatch(bucket):
            raise UsageError(f"--bucket: {bucket!r} is not an S3 bucket name")
    users = [f"arn:aws:iam::*:user/{name}" for name in dict.fromkeys(canaries)]
    names = sorted(set(buckets)) or ["*"]
    queries = athena_statements(results_bucket) if athena else []
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ProveTheCanaryCanDoNothing", "Effect": "Allow",
             "Action": ["iam:GetLoginProfile", "iam:GetUser", "iam:ListAccessKeys",
                        "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser",
                        "iam:ListUserPolicies", "iam:ListUserTags"],
             "Resource": users},
            {"Sid": "GiveTheCanaryATemporaryKey", "Effect": "Allow",
             "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey"],
             "Resource": users},
            {"Sid": "FindTheTrailsSearchEventHistoryAndGuardDuty", "Effect": "Allow",
             "Action": ["cloudtrail:DescribeTrails", "cloudtrail:LookupEvents",
                        "guardduty:ListDetectors", "guardduty:ListFindings",
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
            *queries,
        ],
    }


def render_detect_policy(canaries: Sequence[str], buckets: Sequence[str] = (), *,
                         athena: bool = False, results_bucket: str = RESULTS_BUCKET) -> str:
    return json.dumps(detect_policy(canaries, buckets, athena=athena,
                                    results_bucket=results_bucket), indent=2) + "\n"
