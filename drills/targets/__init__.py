"""Rotation targets: the places an application reads its access key from.

A target is named by a string, `TYPE:VALUE`, and is pluggable like checks: the built-in
types are below, and a package can add one through the `irready.targets` entry-point
group (a callable `(value, TargetEnv) -> Target`). Every target can read the key it
holds, write a new one atomically, and restore the old one (`base`).

Restoring must work even after the drill process died, when the old secret is gone
from memory. So each target keeps the old value in its own storage while the drill
runs, and the journal records only where (never the secret): Secrets Manager keeps it
as the AWSPREVIOUS version, SSM in the parameter's version history (`secret_stores`),
the file targets in a 0600 backup beside the file, deleted when the drill ends
(`files`, `credentials_file`, `env_file`). A `command:` target is handed a restore
request and must keep its own previous value (`command`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points

from drills.errors import TargetError
from drills.targets.base import RestoreState, Target, TargetEnv
from drills.targets.command import CommandTarget
from drills.targets.credentials_file import CredentialsFileTarget
from drills.targets.env_file import EnvFileTarget
from drills.targets.secret_stores import SecretsManagerTarget, SsmParameterTarget

__all__ = ["BUILTIN_TARGETS", "ENTRY_POINT_GROUP", "TARGET_FORMS", "RestoreState", "Target",
           "TargetEnv", "parse_target", "target_types"]

ENTRY_POINT_GROUP = "irready.targets"
TARGET_FORMS = ("secretsmanager:SECRET_ID, ssm:PARAMETER, credentials-file:PATH#PROFILE, "
                "env-file:PATH, command:CMD")

BUILTIN_TARGETS: dict[str, Callable[[str, TargetEnv], Target]] = {
    SecretsManagerTarget.kind: SecretsManagerTarget,
    SsmParameterTarget.kind: SsmParameterTarget,
    CredentialsFileTarget.kind: CredentialsFileTarget,
    EnvFileTarget.kind: EnvFileTarget,
    CommandTarget.kind: CommandTarget,
}


@cache
def target_types() -> dict[str, Callable[[str, TargetEnv], Target]]:
    """The built-in types and those installed packages add; a duplicate name is refused."""
    types = dict(BUILTIN_TARGETS)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in types:
            raise TargetError(f"target type {entry.name!r} from {entry.value} is defined twice")
        types[entry.name] = entry.load()
    return types


def parse_target(spec: str, env: TargetEnv) -> Target:
    """`TYPE:VALUE` -> a Target. Malformed or unknown strings are one-line errors."""
    kind, separator, value = spec.partition(":")
    if not separator or not kind.strip() or not value.strip():
        raise TargetError(f"malformed target {spec!r}: expected TYPE:VALUE, one of "
                          f"{TARGET_FORMS}")
    factory = target_types().get(kind.strip())
    if factory is None:
        known = ", ".join(sorted(target_types()))
        raise TargetError(f"unknown target type {kind!r} in {spec!r} (known: {known})")
    return factory(value.strip(), env)
