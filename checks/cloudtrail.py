"""CloudTrail is the only record of what a leaked key did. These checks ask: is a trail
logging management events, read and write, in every region (and for every account of
the Organization), with files whose integrity can be proven?"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.account import ORGANIZATION
from auditor.awsfacts.cloudtrail import TRAILS
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from checks._util import logging_trails, short_list


@check(
    id="cloudtrail.enabled",
    title="A trail is logging management events, read and write",
    severity=Severity.CRITICAL,
    requires=(TRAILS,),
    remediation=(
        "aws cloudtrail create-trail --name irready-trail --s3-bucket-name BUCKET "
        "--is-multi-region-trail && aws cloudtrail start-logging --name irready-trail"
    ),
    references=("CIS 3.1", "CloudTrail.1"),
)
def enabled(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Without a logging trail there is no way to know what a leaked key was used for.
    ListUsers and GetUser are read events: a write-only trail misses the attacker's
    reconnaissance."""
    trails = facts.get(TRAILS)
    if not trails:
        yield Outcome(Status.FAIL, "account", "No CloudTrail trail exists in any audited region.")
        return
    live = logging_trails(trails)
    complete = [t for t in live if t.records_management]
    if complete:
        yield Outcome(Status.PASS, complete[0].arn,
                      f"Trail {complete[0].name} logs management events, read and write.")
        return
    if live:
        missing = [t for t in live if t.selectors_error]
        if missing and len(missing) == len(live):
            yield Outcome(Status.ERROR, missing[0].arn, missing[0].selectors_error)
            return
        names = short_list([t.name for t in live])
        yield Outcome(Status.FAIL, live[0].arn,
                      f"Trail(s) {names} are logging but do not record both read and write "
                      "management events.")
        return
    unknown = [t for t in trails if t.logging is None]
    if unknown and len(unknown) == len(trails):
        yield Outcome(Status.ERROR, unknown[0].arn, unknown[0].status_error)
        return
    stopped = short_list([t.name for t in trails if t.logging is False])
    yield Outcome(Status.FAIL, trails[0].arn, f"Trail(s) {stopped} exist but are not logging.")


@check(
    id="cloudtrail.multi_region",
    title="A logging trail covers every region",
    severity=Severity.HIGH,
    requires=(TRAILS,),
    remediation="aws cloudtrail update-trail --name TRAIL --is-multi-region-trail",
    references=("CIS 3.1", "CloudTrail.1"),
)
def multi_region(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Attackers use the regions nobody watches; a single-region trail is blind there."""
    live = logging_trails(facts.get(TRAILS))
    wide = [t for t in live if t.multi_region]
    if wide:
        yield Outcome(Status.PASS, wide[0].arn, f"Trail {wide[0].name} is multi-region.")
    elif live:
        yield Outcome(Status.FAIL, live[0].arn,
                      f"Logging trail(s) {short_list([t.name for t in live])} cover only "
                      f"their home region ({short_list(sorted({t.home_region for t in live}))}).")
    else:
        yield Outcome(Status.FAIL, "account", "No logging trail, so no region is covered.")


@check(
    id="cloudtrail.org_trail",
    title="An organization trail logs every account of the Organization",
    severity=Severity.HIGH,
    requires=(ORGANIZATION, TRAILS),
    remediation=(
        "From the management account: aws cloudtrail create-trail --name org-trail "
        "--s3-bucket-name BUCKET --is-organization-trail --is-multi-region-trail"
    ),
)
def org_trail(facts: Facts, config: Config) -> Iterator[Outcome]:
    """A leaked key in a member account that no one trails is an incident no one can
    investigate; an organization trail covers new accounts without anyone remembering."""
    organization = facts.get(ORGANIZATION)
    if organization is None:
        yield Outcome(Status.NOT_APPLICABLE, "account",
                      "The account is not in an AWS Organization.")
        return
    live = [t for t in logging_trails(facts.get(TRAILS)) if t.organization]
    if live:
        yield Outcome(Status.PASS, live[0].arn,
                      f"Organization trail {live[0].name} is logging "
                      f"(organization {organization.id}).")
    else:
        yield Outcome(Status.FAIL, f"organization/{organization.id}",
                      f"No logging organization trail is visible in organization "
                      f"{organization.id}.")


@check(
    id="cloudtrail.log_validation",
    title="Log file validation is on for every logging trail",
    severity=Severity.MEDIUM,
    requires=(TRAILS,),
    remediation="aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
    references=("CIS 3.2", "CloudTrail.4"),
)
def log_validation(facts: Facts, config: Config) -> Iterator[Outcome]:
    """An attacker with the key may try to edit the logs; digest files prove they did not."""
    live = logging_trails(facts.get(TRAILS))
    if not live:
        yield Outcome(Status.NOT_APPLICABLE, "account", "No logging trail to validate.")
        return
    for trail in live:
        if trail.log_validation:
            yield Outcome(Status.PASS, trail.arn, f"Trail {trail.name} validates its log files.")
        else:
            yield Outcome(Status.FAIL, trail.arn,
                          f"Trail {trail.name} does not validate its log files.")
