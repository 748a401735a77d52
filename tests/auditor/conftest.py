"""Fixtures for the audit engine's guarantees: a seeded moto account, a user that
holds a given IAM policy, and moto's IAM enforcement (helpers live in auditkit.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from auditkit import REGION, seed_account


@pytest.fixture
def seeded(aws: Any) -> Any:
    seed_account(aws)
    return aws


@pytest.fixture
def user_with_policy(aws: Any) -> Callable[[dict[str, Any]], Any]:
    """`user_with_policy(document)`: a new IAM user holding only that policy; returns a
    boto3 Session signed with the user's own key."""
    import boto3

    counter = iter(range(100))

    def make(document: dict[str, Any]) -> Any:
        iam = aws.client("iam")
        name = f"auditor-{next(counter)}"
        iam.create_user(UserName=name)
        arn = iam.create_policy(PolicyName=f"{name}-policy",
                                PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                             aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)

    return make


@pytest.fixture
def enforce_iam(monkeypatch: pytest.MonkeyPatch) -> Callable[[], AbstractContextManager[None]]:
    """`with enforce_iam(): ...`: moto evaluates IAM policies for every request made
    inside (set the account up before entering: its "testing" key is no IAM user's).

    Two gaps of moto's simulation are filled on moto's side, so that the test judges
    the policy as AWS would: moto recomputes the SigV4 signature of GuardDuty's GET
    requests differently from botocore (SignatureDoesNotMatch for any caller), so for
    GuardDuty only the signature comparison is skipped (its IAM authorization still
    runs); and moto's S3 action map lacks `?object-lock`, which it would authorize as
    s3:ListBucket instead of AWS's s3:GetBucketObjectLockConfiguration."""
    from moto.core import enable_iam_authentication
    from moto.iam.access_control import IAMRequest
    from moto.s3.responses import ACTION_MAP

    monkeypatch.setitem(ACTION_MAP["BUCKET"]["GET"], "object-lock",
                        "GetBucketObjectLockConfiguration")

    check_signature = IAMRequest.check_signature

    def signature_unless_guardduty(self: Any) -> None:
        if self._service != "guardduty":
            check_signature(self)

    monkeypatch.setattr(IAMRequest, "check_signature", signature_unless_guardduty)
    return enable_iam_authentication
