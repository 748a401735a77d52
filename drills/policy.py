"""`irready policy drill`: the least-privilege IAM policy a drill needs, scoped to the
drill users and to the Secrets Manager secrets and SSM parameters they rotate through.

The actions live in `auditor/policies/drill.json`, a template whose resources hold
placeholders (`${DrillUser}`, `${SecretArn}`, `${ParameterArn}`); this module fills them
in from the config (`[drill] users` and their `[[inventory]]` rotation targets) and
from the command line, and drops the statements of target types nobody uses. File and
command targets need no AWS permission. Secrets or parameters encrypted with a
customer-managed KMS key also need kms:Decrypt and kms:GenerateDataKey on that key."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from importlib.resources import files
from typing import Any

from auditor.config import Config
from auditor.errors import UsageError

# statements that only make sense when some target of that type exists
NEEDS_TARGET_TYPE = {
    "IrreadyDrillSecretsManagerTargets": "secretsmanager",
    "IrreadyDrillSsmTargets": "ssm",
    "IrreadyDrillSsmDescribe": "ssm",
}


def template() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        files("auditor").joinpath("policies/drill.json").read_text())
    return document


def secret_arn(secret_id: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    # Secrets Manager appends "-" and six random characters to a secret's name
    return f"arn:aws:secretsmanager:*:*:secret:{secret_id}-??????"


def parameter_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:*:*:parameter/{name.lstrip('/')}"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def drill_policy(users: Sequence[str], targets: Sequence[str]) -> dict[str, Any]:
    """The template, filled in for `users` and the AWS targets among `targets`."""
    if not users:
        raise UsageError("no drill users: list them in [drill] users in the config, or pass "
                         "--user NAME")
    kinds: dict[str, list[str]] = {"secretsmanager": [], "ssm": []}
    for spec in targets:
        kind, _, value = spec.partition(":")
        if kind in kinds and value.strip():
            kinds[kind].append(value.strip())
    values = {
        "${DrillUser}": _unique(users),
        "${SecretArn}": _unique(secret_arn(s) for s in kinds["secretsmanager"]),
        "${ParameterArn}": _unique(parameter_arn(p) for p in kinds["ssm"]),
    }
    document = template()
    statements = []
    for statement in document["Statement"]:
        needs = NEEDS_TARGET_TYPE.get(statement.get("Sid", ""))
        if needs and not kinds[needs]:
            continue
        resource = statement.get("Resource")
        if isinstance(resource, list):
            expanded: list[str] = []
            for pattern in resource:
                placeholder = next((p for p in values if p in pattern), None)
                if placeholder is None:
                    expanded.append(pattern)
                else:
                    expanded.extend(pattern.replace(placeholder, v) for v in values[placeholder])
            statement = {**statement, "Resource": _unique(expanded)}
        statements.append(statement)
    return {**document, "Statement": statements}


def drill_targets(config: Config, users: Sequence[str]) -> list[str]:
    """The rotation targets the inventory names for `users`."""
    return [entry.rotation_target for entry in config.inventory
            if entry.user in users and entry.rotation_target]


def render_policy(config: Config, users: Sequence[str] = (), targets: Sequence[str] = ()
                  ) -> str:
    chosen = _unique([*config.drill.users, *users])
    document = drill_policy(chosen, [*drill_targets(config, chosen), *targets])
    return json.dumps(document, indent=2) + "\n"


def policy_actions(document: dict[str, Any]) -> set[str]:
    """Every action the policy allows (tests check each drill call against it)."""
    actions: set[str] = set()
    for statement in document["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions
