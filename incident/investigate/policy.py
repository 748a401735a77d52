"""The least-privilege policy of `irready investigate`: name the key's owner, list and
read the trail's log files, decrypt them through S3. Nothing else, and nothing that
writes: an investigation changes nothing in the account."""

from __future__ import annotations

import json
from collections.abc import Sequence

from auditor.errors import UsageError
from incident.investigate.source_spec import BUCKET


def investigate_policy(buckets: Sequence[str]) -> str:
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
             "Action": ["s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{name}" for name in names]},
            {"Sid": "ReadTheTrailsLogFiles", "Effect": "Allow",
             "Action": ["s3:GetObject"],
             "Resource": [f"arn:aws:s3:::{name}/*" for name in names]},
            {"Sid": "DecryptLogFilesThroughS3", "Effect": "Allow",
             "Action": ["kms:Decrypt"], "Resource": "*",
             "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
        ],
    }
    return json.dumps(document, indent=2) + "\n"
