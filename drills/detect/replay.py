"""The replay: the sequence's calls made with the temporary key, one after the other, as
the attacker made them. Each client carries the drill id in its user agent
(`irready-detect/<id>`), so the logged records can be told apart from anything else the
key did (the drill's own "does it authenticate yet?" probes). Denied calls are what a
canary gets, and CloudTrail logs them too: an error is an outcome, not a failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drills.detect.model import ApiCall, Replayed
from drills.detect.sequence import method_name
from drills.engine.aws import AWS_ERRORS
from drills.model import AccessKey

if TYPE_CHECKING:
    from auditor.session import AwsContext

Now = Callable[[], datetime]


def user_agent(drill_id: str) -> str:
    return f"irready-detect/{drill_id}"


def key_clients(ctx: AwsContext, key: AccessKey, drill_id: str) -> Callable[[str], Any]:
    """Clients signed by `key`, made from the drill's own boto3 session (same endpoint,
    region and event hooks), one per service."""
    from botocore.config import Config as BotoConfig

    config = BotoConfig(retries={"mode": "standard", "max_attempts": ctx.max_attempts},
                        connect_timeout=10, read_timeout=30,
                        user_agent_extra=user_agent(drill_id))
    session: Any = ctx.session
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = session.client(
                service, region_name=ctx.region, endpoint_url=ctx.endpoint_url,
                aws_access_key_id=key.key_id, aws_secret_access_key=key.secret,
                config=config)
        return made[service]

    return client


def replay(calls: tuple[ApiCall, ...], client: Callable[[str], Any],
           now: Now = lambda: datetime.now(UTC)) -> tuple[Replayed, ...]:
    from auditor.session import error_code

    done = []
    for call in calls:
        at = now()
        try:
            getattr(client(call.service), method_name(call.operation))(**call.parameters)
            outcome = "ok"
        except AWS_ERRORS as exc:
            outcome = error_code(exc)
        done.append(Replayed(call, at, outcome))
    return tuple(done)
