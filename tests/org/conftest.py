"""A moto organization for the organization audit: the management account
123456789012 with an organization trail, a member in an OU (and one in an OU nested
under it), a suspended member, a member whose role is missing and one whose role denies
irready. moto's AssumeRole succeeds for any role, so the last two are injected through a
botocore `before-call` hook on every session the process builds."""

from __future__ import annotations

from typing import Any

import pytest
from orgkit import TRAIL_BUCKET, Organization


def _deny_assume(org: Organization) -> Any:
    from botocore.awsrequest import AWSResponse

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["role_arn"] = params.get("RoleArn", "")

    def answer(context: dict[str, Any], **_: Any) -> Any:
        arn = context.get("role_arn", "")
        if f"::{org.no_role}:" in arn:
            message = f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
        elif f"::{org.denied}:" in arn:
            message = "explicit deny in a service control policy"
        else:
            return None
        return (AWSResponse("https://sts.invalid/", 403, {}, None),
                {"Error": {"Code": "AccessDenied", "Message": message},
                 "ResponseMetadata": {"HTTPStatusCode": 403}})

    return remember, answer


@pytest.fixture
def organization(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Organization:
    import boto3.session

    client = aws.client("organizations")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    ou = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]
    nested = client.create_organizational_unit(ParentId=ou["Id"], Name="payments")
    ids = {}
    for name in ("workload", "nested", "suspended", "no-role", "denied"):
        status = client.create_account(AccountName=name, Email=f"{name}@example.com")
        ids[name] = status["CreateAccountStatus"]["AccountId"]
    client.move_account(AccountId=ids["workload"], SourceParentId=root,
                        DestinationParentId=ou["Id"])
    client.move_account(AccountId=ids["nested"], SourceParentId=root,
                        DestinationParentId=nested["OrganizationalUnit"]["Id"])
    client.close_account(AccountId=ids["suspended"])
    org = Organization(ou=ou["Id"], nested_ou=nested["OrganizationalUnit"]["Id"],
                       workload=ids["workload"], nested=ids["nested"],
                       suspended=ids["suspended"], no_role=ids["no-role"], denied=ids["denied"])
    aws.client("s3").create_bucket(Bucket=TRAIL_BUCKET)
    trail = aws.client("cloudtrail")
    trail.create_trail(Name="org-trail", S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True,
                       IsOrganizationTrail=True, EnableLogFileValidation=True)
    trail.put_event_selectors(TrailName="org-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    trail.start_logging(Name="org-trail")

    remember, answer = _deny_assume(org)
    original = boto3.session.Session.__init__

    def with_faults(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.events.register("before-parameter-build.sts.AssumeRole", remember)
        self.events.register("before-call.sts.AssumeRole", answer)

    monkeypatch.setattr(boto3.session.Session, "__init__", with_faults)
    aws.events.register("before-parameter-build.sts.AssumeRole", remember)
    aws.events.register("before-call.sts.AssumeRole", answer)
    return org
