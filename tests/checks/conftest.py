"""Fixtures for tests of checks and fact fetchers. Besides the moto account of
tests/conftest.py, they fill three gaps where moto does not behave like AWS, each in
moto's side, never in irready's:
- `deny`: answers one API operation with an AWS error (AccessDenied, ...), as a policy
  or another account's bucket would, before the request reaches moto;
- `org_trails_visible`: in AWS a member account sees its Organization's trail (as a
  shadow trail, with its status and selectors); moto keeps trails per account;
- `quarantine_policy`: moto does not load AWS managed policies by default, so AWS's
  AWSCompromisedKeyQuarantineV2 is added to the account, from moto's own copy of it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from auditor.config import AuditSettings, Config
from auditor.facts import Facts
from auditor.session import AwsContext

ACCOUNT = "123456789012"
QUARANTINE_V2 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"

Deny = Callable[..., None]


@pytest.fixture
def one_region() -> Config:
    """Config narrowed to us-east-1: most fetcher tests need no second region."""
    return replace(Config(), audit=AuditSettings(regions=("us-east-1",)))


@pytest.fixture
def live_facts(ctx: AwsContext, one_region: Config) -> Callable[..., Facts]:
    """Facts that read the moto account, as an audit would."""

    def build(config: Config = one_region, account_id: str = ACCOUNT) -> Facts:
        return Facts(ctx, config, account_id=account_id)

    return build


def error_response(operation: str, code: str, message: str, status: int) -> tuple[Any, Any]:
    from botocore.awsrequest import AWSResponse

    http = AWSResponse("https://denied.invalid/", status, {}, None)
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return http, parsed


@pytest.fixture
def deny(aws: Any) -> Deny:
    """`deny("cloudtrail", "GetTrailStatus", code=..., when=lambda params: ...)`: every
    matching call through the `aws` session (or `session=`) fails with that error, as
    AWS would answer it."""

    def install(service: str, operation: str, *, code: str = "AccessDenied",
                message: str = "", status: int = 403,
                when: Callable[[Mapping[str, Any]], bool] = lambda _params: True,
                session: Any = None) -> None:
        text = message or f"User is not authorized to perform: {service}:{operation}"

        def remember(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["api_params"] = dict(params)  # before-call sees only the wire form

        def handler(context: dict[str, Any], **_: Any) -> tuple[Any, Any] | None:
            if when(context.get("api_params", {})):
                return error_response(operation, code, text, status)
            return None

        events = (session or aws).events
        events.register(f"before-parameter-build.{service}.{operation}", remember)
        events.register(f"before-call.{service}.{operation}", handler)

    return install


@pytest.fixture
def org_trails_visible(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Member accounts see the organization trails of their management account, and
    can read their status and event selectors by ARN, as in AWS."""
    from moto.cloudtrail.models import CloudTrailBackend, Trail, cloudtrail_backends
    from moto.organizations.models import organizations_backends

    describe = CloudTrailBackend.describe_trails
    get_trail = CloudTrailBackend.get_trail

    def organization_trails(backend: CloudTrailBackend) -> list[Trail]:
        membership = organizations_backends.master_accounts.get(backend.account_id)
        if membership is None or membership[0] == backend.account_id:
            return []
        return [trail for regional in cloudtrail_backends[membership[0]].values()
                for trail in regional.trails.values() if trail.is_org_trail]

    def describe_trails(self: CloudTrailBackend, include_shadow_trails: bool) -> list[Trail]:
        trails = list(describe(self, include_shadow_trails))
        if include_shadow_trails:
            trails += [t for t in organization_trails(self)
                       if t.is_multi_region or t.region_name == self.region_name]
        return trails

    def get_trail_by_arn(self: CloudTrailBackend, name_or_arn: str) -> Trail:
        for trail in organization_trails(self):
            if trail.arn == name_or_arn:
                return trail
        return get_trail(self, name_or_arn)

    monkeypatch.setattr(CloudTrailBackend, "describe_trails", describe_trails)
    monkeypatch.setattr(CloudTrailBackend, "get_trail", get_trail_by_arn)


@pytest.fixture
def quarantine_policy(aws: Any) -> str:
    """AWS's AWSCompromisedKeyQuarantineV2 exists in the moto account; yields its ARN."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    name = QUARANTINE_V2.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data)[name]
    policy = AWSManagedPolicy.from_data(name, ACCOUNT, "us-east-1", data)
    iam_backends[ACCOUNT]["global"].managed_policies[policy.arn] = policy
    assert policy.arn == QUARANTINE_V2
    return policy.arn
