"""Member accounts' clients share their class (built once per session and service, not
once per account), and each still signs with its own account's credentials: a shared
class must never mean a shared identity."""

from __future__ import annotations

from typing import Any

from orgkit import Organization

from auditor.org_run import assume, role_arn
from auditor.session import AwsContext


def test_members_share_client_classes_and_keep_their_own_credentials(
        aws: Any, organization: Organization) -> None:
    ctx = AwsContext(session=aws)
    caller = ctx.identity()
    members = {account: assume(ctx, role_arn(caller, account, "irready-audit"), None)
               for account in (organization.workload, organization.nested)}

    clients = {account: member.client("sts") for account, member in members.items()}
    workload, nested = clients[organization.workload], clients[organization.nested]
    assert type(workload) is type(nested)
    assert workload is not nested
    assert {account: client.get_caller_identity()["Account"]
            for account, client in clients.items()} == {
        organization.workload: organization.workload,
        organization.nested: organization.nested}
    # the caller's own client is untouched: still the management account
    assert ctx.client("sts").get_caller_identity()["Account"] == caller.account_id
    # every operation of the service is still there, with its name
    assert workload.get_caller_identity.__name__ == "get_caller_identity"
    assert callable(nested.assume_role)
