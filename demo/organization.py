"""The demo's organization: the simulated account becomes the management account of an
AWS Organization with two member accounts and one organization trail, and `irready
audit --org` audits all three in one run (one region each, to stay quick), each member
through its audit role, each run stored beside the account's own history."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from demo.account import DEMO_REGION, TRAIL_BUCKET

if TYPE_CHECKING:
    from auditor.config import Config
    from auditor.org import OrgAudit
    from auditor.store import HistoryStore

MEMBERS = ("payments", "sandbox")
ORG_TRAIL = "org-trail"


def seed_organization(session: Any) -> None:
    """The organization, its members, and the organization trail that logs them all."""
    client = session.client("organizations")
    client.create_organization(FeatureSet="ALL")
    for name in MEMBERS:
        client.create_account(AccountName=name, Email=f"{name}@example.com")
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(Name=ORG_TRAIL, S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True,
                            IsOrganizationTrail=True, EnableLogFileValidation=True)
    cloudtrail.put_event_selectors(TrailName=ORG_TRAIL, EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    cloudtrail.start_logging(Name=ORG_TRAIL)


def audit_demo_organization(session: Any, config: Config, store: HistoryStore) -> OrgAudit:
    from auditor.clock import utcnow
    from auditor.org import OrgScope
    from auditor.org_run import audit_organization
    from auditor.registry import discover
    from auditor.session import AwsContext
    from auditor.store import HistoryStore
    from demo.account import moto_report_dated

    seed_organization(session)
    one_region = replace(config, audit=replace(config.audit, regions=(DEMO_REGION,)))
    with moto_report_dated(utcnow):
        org = audit_organization(AwsContext(session=session), one_region, discover(),
                                 OrgScope(), open_store=lambda: HistoryStore(store.path))
    return replace(org, org_run_id=store.save_org_run(org))
