"""The AWS secret stores: Secrets Manager and SSM Parameter Store. Both hold the key as
JSON (other fields kept) and both keep every value they ever held as a version, so they
share one restore: put the old version's bytes back as the current value, or, if that
version is gone, the old key from memory merged into the current JSON. Secrets Manager
keeps the old value as the AWSPREVIOUS version, SSM in the parameter's history."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from drills.errors import TargetError
from drills.model import AccessKey
from drills.targets.base import RestoreState, Target, key_from_json, merge_json


def _error_code(exc: BaseException) -> str:
    from auditor.session import error_code

    return error_code(exc)


def _region_of(identifier: str) -> str | None:
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


class VersionedSecretTarget(Target):
    """A secret store that keeps its earlier values as versions."""

    @abstractmethod
    def current_text(self) -> str:
        """The JSON the secret holds now."""

    @abstractmethod
    def version_text(self, version: str) -> str:
        """The JSON of an earlier version; TargetError when that version is gone."""

    @abstractmethod
    def put_text(self, text: str, state: RestoreState) -> None:
        """Store `text` as the new current value (a restore)."""

    def read(self) -> AccessKey:
        return key_from_json(self.current_text(), self.spec, self.env)

    def previous(self, state: RestoreState) -> AccessKey | None:
        version = state.get("previous_version")
        if not version:
            return None
        try:
            return key_from_json(self.version_text(version), self.spec, self.env)
        except TargetError:
            return None

    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        current = self.current_text()
        if key_from_json(current, self.spec, self.env).key_id == old_key_id:
            return
        version = state.get("previous_version")
        if version:
            try:
                kept = self.version_text(version)
            except TargetError:  # the version is gone: memory may still help
                kept = ""
            if kept and key_from_json(kept, self.spec, self.env).key_id == old_key_id:
                # the old version's bytes become current again, as a new version (moving
                # the AWSCURRENT label would need one more permission, and is not what
                # every Secrets Manager-compatible endpoint does)
                self.put_text(kept, state)
                return
        if old is not None and old.key_id == old_key_id and old.secret:
            self.put_text(merge_json(current, old, self.env), state)
            return
        raise TargetError(f"{self.spec}: cannot restore key {old_key_id}: its version is "
                          "gone and its secret is not in memory")


class SecretsManagerTarget(VersionedSecretTarget):
    kind = "secretsmanager"

    def _client(self) -> Any:
        return self.env.aws("secretsmanager", _region_of(self.value))

    def touches(self) -> str:
        return (f"secretsmanager:PutSecretValue on secret {self.value} (the old value stays "
                "as its AWSPREVIOUS version)")

    def _get(self, **selector: str) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._client().get_secret_value(
                SecretId=self.value, **selector)
        except Exception as exc:
            if _error_code(exc) == "ResourceNotFoundException":
                raise TargetError(f"{self.spec}: the secret does not exist") from None
            raise
        if "SecretString" not in response:
            raise TargetError(f"{self.spec}: the secret is binary, not JSON")
        return response

    def current_text(self) -> str:
        return str(self._get()["SecretString"])

    def version_text(self, version: str) -> str:
        return str(self._get(VersionId=version)["SecretString"])

    def put_text(self, text: str, state: RestoreState) -> None:
        self._client().put_secret_value(SecretId=self.value, SecretString=text)

    def prepare(self, drill_id: str) -> RestoreState:
        return {"previous_version": str(self._get()["VersionId"])}

    def publish(self, key: AccessKey, user: str) -> RestoreState:
        body = merge_json(self.current_text(), key, self.env)
        response = self._client().put_secret_value(SecretId=self.value, SecretString=body)
        return {"new_version": str(response["VersionId"])}


class SsmParameterTarget(VersionedSecretTarget):
    kind = "ssm"

    def _client(self) -> Any:
        return self.env.aws("ssm", _region_of(self.value))

    def touches(self) -> str:
        return (f"ssm:PutParameter on SecureString {self.value} (the old value stays in the "
                "parameter's version history)")

    def _get(self, name: str | None = None) -> dict[str, Any]:
        try:
            response = self._client().get_parameter(Name=name or self.value,
                                                    WithDecryption=True)
        except Exception as exc:
            if _error_code(exc) in ("ParameterNotFound", "ParameterVersionNotFound"):
                raise TargetError(f"{self.spec}: the parameter does not exist") from None
            raise
        parameter: dict[str, Any] = response["Parameter"]
        if parameter.get("Type") != "SecureString":
            raise TargetError(f"{self.spec}: the parameter is a {parameter.get('Type')}, not "
                              "a SecureString; a key must not be stored in plain text")
        return parameter

    def current_text(self) -> str:
        return str(self._get()["Value"])

    def version_text(self, version: str) -> str:
        return str(self._get(f"{self.value}:{version}")["Value"])

    def put_text(self, text: str, state: RestoreState) -> None:
        self._put(text, state.get("kms_key_id", ""))

    def _kms_key(self) -> str:
        response = self._client().describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [self.value]}])
        found = response.get("Parameters") or [{}]
        return str(found[0].get("KeyId") or "")

    def prepare(self, drill_id: str) -> RestoreState:
        return {"previous_version": str(self._get()["Version"]), "kms_key_id": self._kms_key()}

    def _put(self, value: str, kms_key_id: str) -> int:
        extra = {"KeyId": kms_key_id} if kms_key_id else {}
        response = self._client().put_parameter(Name=self.value, Value=value,
                                                Type="SecureString", Overwrite=True, **extra)
        return int(response["Version"])

    def publish(self, key: AccessKey, user: str) -> RestoreState:
        value = merge_json(self.current_text(), key, self.env)
        return {"new_version": str(self._put(value, self._kms_key()))}
