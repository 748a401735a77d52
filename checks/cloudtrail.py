"""CloudTrail is the only record of what a leaked key did. These checks ask: is a trail
logging management events, read and write, in every region (and for every account of
the Organization), with files whose integrity can be proven?"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.awsfacts.account import ORGANIZATION
from auditor.awsfacts.cloudtrail import TRAILS, Trail
from auditor.config import Config
from auditor.facts import Facts
from auditor.models import Outcome, Severity, Status
from auditor.registry import check
from checks._util import active_trails, logging_trails, short_list, unknown_trails


@check(
    id="cloudtrail.enabled",
    title="A trail is logging management events, read and write",
    severity=Severity.CRITICAL,
    plain=(
        "Nothing records what is done in the account: after a leaked key we could not "
        "tell what the attacker did."
    ),
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
    reconnaissance. When no trail is known to be complete but one might be (its status
    or selectors could not be read), the answer is ERROR, not FAIL."""
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
    uncertain = [t for t in trails if t.logging is not False
                 and (t.selectors_error or (t.logging is None and t.records_management))]
    if uncertain:
        trail = uncertain[0]
        reason = trail.status_error if trail.logging is None else trail.selectors_error
        yield Outcome(Status.ERROR, trail.arn,
                      f"Cannot tell whether trail {trail.name} logs management events: "
                      f"{reason}.")
        return
    # left: trails that log (or may) but whose selectors can never make them complete
    incomplete = [t for t in trails if t.logging is not False]
    if incomplete:
        what = "; ".join(f"{t.name} records {_recorded(t)}" for t in incomplete[:5])
        yield Outcome(Status.FAIL, incomplete[0].arn,
                      f"No logging trail records both read and write management events "
                      f"({what}).")
        return
    stopped = short_list([t.name for t in trails if t.logging is False])
    yield Outcome(Status.FAIL, trails[0].arn, f"Trail(s) {stopped} exist but are not logging.")


def _recorded(trail: Trail) -> str:
    if trail.management_read and trail.management_write:
        return "read and write management events"
    if trail.management_read:
        return "read management events only"
    if trail.management_write:
        return "write management events only"
    return "no management events"


@check(
    id="cloudtrail.multi_region",
    title="A logging trail covers every region",
    severity=Severity.HIGH,
    plain=(
        "Activity in most regions is not recorded: an attacker working in a region we do "
        "not log would leave no trace."
    ),
    requires=(TRAILS,),
    remediation="aws cloudtrail update-trail --name TRAIL --is-multi-region-trail",
    references=("CIS 3.1", "CloudTrail.1"),
)
def multi_region(facts: Facts, config: Config) -> Iterator[Outcome]:
    """Attackers use the regions nobody watches; a single-region trail is blind there. The
    multi-region trail must record management events, read and write (CIS 3.1,
    CloudTrail.1): a multi-region trail of S3 data events sees no ListUsers anywhere."""
    trails = facts.get(TRAILS)
    live = logging_trails(trails)
    wide = [t for t in live if t.multi_region]
    complete = [t for t in wide if t.records_management]
    # a multi-region trail that may be complete: its status or its selectors are unknown
    maybe_status = [t for t in unknown_trails(trails) if t.multi_region
                    and (t.records_management or t.selectors_error)]
    maybe_selectors = [t for t in wide if t.selectors_error]
    if complete:
        yield Outcome(Status.PASS, complete[0].arn,
                      f"Trail {complete[0].name} is multi-region and logs management events, "
                      "read and write.")
    elif maybe_status:
        yield Outcome(Status.ERROR, maybe_status[0].arn,
                      f"Multi-region trail {maybe_status[0].name} may or may not be logging: "
                      f"{maybe_status[0].status_error}.")
    elif maybe_selectors:
        yield Outcome(Status.ERROR, maybe_selectors[0].arn,
                      f"Cannot tell whether multi-region trail {maybe_selectors[0].name} logs "
                      f"management events: {maybe_selectors[0].selectors_error}.")
    elif partial := wide or [t for t in unknown_trails(trails) if t.multi_region]:
        what = "; ".join(f"{t.name} records {_recorded(t)}" for t in partial[:5])
        yield Outcome(Status.FAIL, partial[0].arn,
                      f"No multi-region trail records both read and write management events "
                      f"({what}).")
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
    plain=(
        "No central trail covers every account of the organization: a new account would "
        "start without logs."
    ),
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
    trails = [t for t in facts.get(TRAILS) if t.organization]
    live = logging_trails(trails)
    maybe = unknown_trails(trails)
    if live:
        yield Outcome(Status.PASS, live[0].arn,
                      f"Organization trail {live[0].name} is logging "
                      f"(organization {organization.id}).")
    elif maybe:
        yield Outcome(Status.ERROR, maybe[0].arn,
                      f"Organization trail {maybe[0].name} may or may not be logging: "
                      f"{maybe[0].status_error}.")
    elif trails:
        yield Outcome(Status.FAIL, trails[0].arn,
                      f"Organization trail {trails[0].name} exists but is not logging "
                      f"(organization {organization.id}).")
    else:
        yield Outcome(Status.FAIL, f"organization/{organization.id}",
                      f"No organization trail is visible in organization {organization.id}.")


@check(
    id="cloudtrail.log_validation",
    title="Log file validation is on for every logging trail",
    severity=Severity.MEDIUM,
    plain=(
        "We could not prove that the logs were not altered after the fact."
    ),
    requires=(TRAILS,),
    remediation="aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
    references=("CIS 3.2", "CloudTrail.4"),
)
def log_validation(facts: Facts, config: Config) -> Iterator[Outcome]:
    """An attacker with the key may try to edit the logs; digest files prove they did not.
    A trail whose status cannot be read is judged too: its validation setting is known."""
    live = active_trails(facts.get(TRAILS))
    if not live:
        yield Outcome(Status.NOT_APPLICABLE, "account", "No logging trail to validate.")
        return
    for trail in live:
        owner = (f" (owned by account {trail.account_id})"
                 if trail.account_id and trail.account_id != facts.account_id else "")
        if trail.log_validation:
            yield Outcome(Status.PASS, trail.arn,
                          f"Trail {trail.name}{owner} validates its log files.")
        else:
            yield Outcome(Status.FAIL, trail.arn,
                          f"Trail {trail.name}{owner} does not validate its log files.")
