"""What every follow-up writer shares: the kinds of follow-up, the parts of a
successful record a writer reads (`Call`), and the quoting of every value that reaches
a command, since it comes from the attacker's own request."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident.investigate.model import FollowUp


class FollowUpKind(StrEnum):
    """What a follow-up is about: the `kind` of model.FollowUp, one per thing to undo."""

    USER = "user"
    ACCESS_KEY = "access_key"
    LOGIN_PROFILE = "login_profile"
    ROLE = "role"
    TRUST_POLICY = "trust_policy"
    POLICY_ATTACHMENT = "policy_attachment"
    INLINE_POLICY = "inline_policy"
    GROUP_MEMBERSHIP = "group_membership"
    POLICY_VERSION = "policy_version"
    BUCKET_POLICY = "bucket_policy"
    BUCKET_ACL = "bucket_acl"
    PUBLIC_ACCESS_BLOCK = "public_access_block"
    SECURITY_GROUP_INGRESS = "security_group_ingress"
    SNAPSHOT_PERMISSION = "snapshot_permission"
    IMAGE_PERMISSION = "image_permission"
    DB_SNAPSHOT_PERMISSION = "db_snapshot_permission"
    ALTERNATE_CONTACT = "alternate_contact"
    CONTACT_INFORMATION = "contact_information"
    TRAIL_LOGGING = "trail_logging"
    TRAIL = "trail"
    EVENT_SELECTORS = "event_selectors"
    DETECTOR = "detector"
    LAMBDA_FUNCTION = "lambda_function"
    LAMBDA_CODE = "lambda_code"
    LAMBDA_PERMISSION = "lambda_permission"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class Call:
    """The parts of a successful record every follow-up writer needs."""

    record: dict[str, Any]
    request: dict[str, Any]
    response: dict[str, Any]
    region: str
    event_id: str
    event_time: datetime

    def follow_up(self, kind: FollowUpKind, resource: str, command: str,
                  note: str = "") -> FollowUp:
        return FollowUp(kind, resource, self.event_id, self.event_time, command, note)

    @property
    def region_option(self) -> str:
        return f" --region {shlex.quote(self.region)}" if self.region else ""


def q(value: str) -> str:
    """A value from the attacker's own request, quoted for the shell."""
    return shlex.quote(value)


Writer = Callable[[Call], FollowUp | None]
