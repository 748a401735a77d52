"""What every rotation target is: a place that holds a key, can read it, write a new one
atomically, and restore the old one, with what it may use (`TargetEnv`) and the JSON
helpers the secret stores share.

Restoring must work even after the drill process died, when the old secret is gone
from memory. So each target keeps the old value in its own storage while the drill
runs, and the journal records only where (never the secret): the `RestoreState`."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from auditor.redact import Redactor
from drills.errors import TargetError
from drills.model import AccessKey

if TYPE_CHECKING:
    from auditor.session import AwsContext

RestoreState = dict[str, str]  # where a target keeps the old value; journaled, never secret


@dataclass(frozen=True)
class TargetEnv:
    """What targets may use: AWS clients, the JSON field names, limits, the redactor."""

    ctx: AwsContext | None
    id_field: str = "AccessKeyId"
    secret_field: str = "SecretAccessKey"
    command_timeout: float = 120.0
    redactor: Redactor | None = None

    def aws(self, service: str, region: str | None = None) -> Any:
        if self.ctx is None:
            raise TargetError(f"a {service} target needs AWS credentials")
        return self.ctx.client(service, region)

    def redact(self, text: str) -> str:
        return self.redactor.redact(text) if self.redactor else text


class Target(ABC):
    """One place that holds a key. Methods raise TargetError for what the user must fix
    and let botocore errors through for the engine to classify."""

    kind: ClassVar[str]

    def __init__(self, value: str, env: TargetEnv) -> None:
        self.value = value
        self.env = env

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.value}"

    @abstractmethod
    def touches(self) -> str:
        """What publishing changes, in words, for --dry-run."""

    @abstractmethod
    def read(self) -> AccessKey:
        """The key the target holds now; its secret may be "" if the target hides it."""

    def prepare(self, drill_id: str) -> RestoreState:
        """Called right before publishing, while the target holds the old key: note
        where the old value will stay available."""
        return {}

    @abstractmethod
    def publish(self, key: AccessKey, user: str) -> RestoreState:
        """Write `key` atomically; return what identifies the new value."""

    @abstractmethod
    def previous(self, state: RestoreState) -> AccessKey | None:
        """The old key as kept by the target's own storage, if it can still tell."""

    @abstractmethod
    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        """Put the old key back. A no-op when the target holds it already."""

    def cleanup(self, state: RestoreState) -> None:  # noqa: B027 - most targets keep nothing
        """Drop whatever `prepare` kept, once no rollback can need it."""


def key_from_json(text: str, where: str, env: TargetEnv) -> AccessKey:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise TargetError(f"{where} does not hold JSON with {env.id_field} and "
                          f"{env.secret_field}")
    key_id, secret = document.get(env.id_field), document.get(env.secret_field)
    if not isinstance(key_id, str) or not key_id or not isinstance(secret, str):
        raise TargetError(f"{where} has no {env.id_field} and {env.secret_field} fields")
    return AccessKey(key_id, secret)


def merge_json(text: str, key: AccessKey, env: TargetEnv) -> str:
    """The stored JSON with the key fields replaced and every other field kept."""
    try:
        document = json.loads(text)
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    document[env.id_field] = key.key_id
    document[env.secret_field] = key.secret
    return json.dumps(document)
