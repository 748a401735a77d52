"""Rotation targets: the places an application reads its access key from.

A target is named by a string, `TYPE:VALUE`, and is pluggable like checks: the built-in
types are below, and a package can add one through the `irready.targets` entry-point
group (a callable `(value, TargetEnv) -> Target`). Every target can read the key it
holds, write a new one atomically, and restore the old one.

Restoring must work even after the drill process died, when the old secret is gone
from memory. So each target keeps the old value in its own storage while the drill
runs, and the journal records only where (never the secret): Secrets Manager keeps it
as the AWSPREVIOUS version, SSM in the parameter's version history, the file targets in
a 0600 backup beside the file, deleted when the drill ends. A `command:` target is
handed a restore request and must keep its own previous value.

Secrets travel in memory only: a command target gets the key as JSON on stdin, never
in its arguments or environment."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import stat
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from auditor.redact import Redactor
from drills.errors import TargetError
from drills.model import AccessKey

if TYPE_CHECKING:
    from auditor.session import AwsContext

ENTRY_POINT_GROUP = "irready.targets"
TARGET_FORMS = ("secretsmanager:SECRET_ID, ssm:PARAMETER, credentials-file:PATH#PROFILE, "
                "env-file:PATH, command:CMD")
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


# -- helpers -----------------------------------------------------------------------


def _key_from_json(text: str, where: str, env: TargetEnv) -> AccessKey:
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


def _merge_json(text: str, key: AccessKey, env: TargetEnv) -> str:
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


def _error_code(exc: BaseException) -> str:
    from auditor.session import error_code

    return error_code(exc)


def _region_of(identifier: str) -> str | None:
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


# -- Secrets Manager -----------------------------------------------------------------


class SecretsManagerTarget(Target):
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

    def read(self) -> AccessKey:
        return _key_from_json(self._get()["SecretString"], self.spec, self.env)

    def prepare(self, drill_id: str) -> RestoreState:
        return {"previous_version": str(self._get()["VersionId"])}

    def publish(self, key: AccessKey, user: str) -> RestoreState:
        body = _merge_json(self._get()["SecretString"], key, self.env)
        response = self._client().put_secret_value(SecretId=self.value, SecretString=body)
        return {"new_version": str(response["VersionId"])}

    def previous(self, state: RestoreState) -> AccessKey | None:
        version = state.get("previous_version")
        if not version:
            return None
        try:
            return _key_from_json(self._get(VersionId=version)["SecretString"], self.spec,
                                  self.env)
        except TargetError:
            return None

    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        current = self._get()
        if _key_from_json(current["SecretString"], self.spec, self.env).key_id == old_key_id:
            return
        version = state.get("previous_version")
        if version:
            try:
                kept = self._get(VersionId=version)["SecretString"]
            except TargetError:
                kept = ""
            if kept and _key_from_json(kept, self.spec, self.env).key_id == old_key_id:
                # the old version's bytes become current again, as a new version (moving
                # the AWSCURRENT label would need one more permission, and is not what
                # every Secrets Manager-compatible endpoint does)
                self._client().put_secret_value(SecretId=self.value, SecretString=kept)
                return
        if old is not None and old.key_id == old_key_id and old.secret:
            self._client().put_secret_value(
                SecretId=self.value,
                SecretString=_merge_json(current["SecretString"], old, self.env))
            return
        raise TargetError(f"{self.spec}: cannot restore key {old_key_id}: its version is "
                          "gone and its secret is not in memory")


# -- SSM Parameter Store -------------------------------------------------------------


class SsmParameterTarget(Target):
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

    def read(self) -> AccessKey:
        return _key_from_json(self._get()["Value"], self.spec, self.env)

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
        value = _merge_json(self._get()["Value"], key, self.env)
        return {"new_version": str(self._put(value, self._kms_key()))}

    def previous(self, state: RestoreState) -> AccessKey | None:
        version = state.get("previous_version")
        if not version:
            return None
        try:
            return _key_from_json(self._get(f"{self.value}:{version}")["Value"], self.spec,
                                  self.env)
        except TargetError:
            return None

    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        current = self._get()
        if _key_from_json(current["Value"], self.spec, self.env).key_id == old_key_id:
            return
        kms = state.get("kms_key_id", "")
        version = state.get("previous_version")
        if version:
            try:
                kept = self._get(f"{self.value}:{version}")["Value"]
            except TargetError:  # the version is gone (100 are kept): memory may still help
                kept = ""
            if kept and _key_from_json(kept, self.spec, self.env).key_id == old_key_id:
                self._put(kept, kms)
                return
        if old is not None and old.key_id == old_key_id and old.secret:
            self._put(_merge_json(current["Value"], old, self.env), kms)
            return
        raise TargetError(f"{self.spec}: cannot restore key {old_key_id}: its version is "
                          "gone and its secret is not in memory")


# -- files -----------------------------------------------------------------------------


def _create_fresh(path: Path) -> int:
    """Open a new 0600 file at `path` for writing. Whatever sits at that name (a file a
    killed drill left, or a link someone planted in a shared folder) is removed first, and
    the open neither follows a link nor reuses a file: a secret written here cannot end
    up anywhere else."""
    path.unlink(missing_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename, keeping its mode (and owner, if we may).
    A symlink is followed, so a linked credentials file stays a link."""
    real = Path(os.path.realpath(path))
    info = real.stat()
    mode = stat.S_IMODE(info.st_mode)
    tmp = real.with_name(f".{real.name}.irready-{os.getpid()}.tmp")
    fd = _create_fresh(tmp)
    try:
        os.fchmod(fd, mode)
        with contextlib.suppress(PermissionError):  # not ours to give away: keep ours
            os.fchown(fd, info.st_uid, info.st_gid)
        os.write(fd, text.encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, real)
    try:
        folder = os.open(real.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


class FileTarget(Target):
    """A text file holding the key; subclasses know its syntax."""

    @property
    def path(self) -> Path:
        return Path(self.value).expanduser()

    @abstractmethod
    def extract(self, text: str, where: str) -> AccessKey: ...

    @abstractmethod
    def replace(self, text: str, key: AccessKey) -> str: ...

    def _text(self, path: Path | None = None) -> str:
        path = path or self.path
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TargetError(f"{self.spec}: the file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TargetError(f"{self.spec}: cannot read {path}: {exc}") from None

    def read(self) -> AccessKey:
        return self.extract(self._text(), self.spec)

    def backup_path(self, drill_id: str) -> Path:
        real = Path(os.path.realpath(self.path))
        return real.with_name(f".{real.name}.irready-{drill_id}.bak")

    def prepare(self, drill_id: str) -> RestoreState:
        backup = self.backup_path(drill_id)
        tmp = backup.with_name(backup.name + ".tmp")
        fd = _create_fresh(tmp)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, self._text().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, backup)
        return {"backup": str(backup)}

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold an exclusive flock on the file's folder from the read to the rename. The
        drill lock is per user, so two users' drills may rewrite one file at once (two
        profiles of one credentials file): each would otherwise write back the other's
        profile as it read it, putting an old key back. The folder, not the file, is
        locked, since the rename replaces the file."""
        folder = os.open(Path(os.path.realpath(self.path)).parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)  # closing drops the lock

    def publish(self, key: AccessKey, user: str) -> RestoreState:
        with self._exclusive():
            atomic_write(self.path, self.replace(self._text(), key))
        return {}

    def previous(self, state: RestoreState) -> AccessKey | None:
        backup = state.get("backup")
        if not backup or not Path(backup).is_file():
            return None
        try:
            return self.extract(self._text(Path(backup)), self.spec)
        except TargetError:
            return None

    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        with self._exclusive():
            text = self._text()
            if self.extract(text, self.spec).key_id == old_key_id:
                return
            source = old if old is not None and old.key_id == old_key_id and old.secret \
                else None
            if source is None:
                kept = self.previous(state)
                source = kept if kept is not None and kept.key_id == old_key_id else None
            if source is None:
                raise TargetError(f"{self.spec}: cannot restore key {old_key_id}: the backup "
                                  "is gone and its secret is not in memory")
            atomic_write(self.path, self.replace(text, source))

    def cleanup(self, state: RestoreState) -> None:
        """Delete the backup, and what a write cut off by kill -9 left beside the file
        (a temporary file holding a secret), under the folder lock so that no other
        drill's write in progress is touched."""
        backup = state.get("backup")
        if backup:
            Path(backup).unlink(missing_ok=True)
            Path(backup + ".tmp").unlink(missing_ok=True)
        real = Path(os.path.realpath(self.path))
        left = re.compile(rf"\.{re.escape(real.name)}\.irready-\d+\.tmp")
        with self._exclusive():
            for stale in real.parent.iterdir():
                if left.fullmatch(stale.name):
                    stale.unlink(missing_ok=True)


SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
ASSIGNMENT = re.compile(r"^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)(.*?)(\s*)$")


class CredentialsFileTarget(FileTarget):
    """The AWS shared credentials file; only the two lines of one profile change."""

    kind = "credentials-file"
    ID_NAME = "aws_access_key_id"
    SECRET_NAME = "aws_secret_access_key"

    def __init__(self, value: str, env: TargetEnv) -> None:
        super().__init__(value, env)
        file_part, separator, profile = value.rpartition("#")
        if not separator:
            file_part, profile = value, "default"
        if not file_part.strip() or not profile.strip():
            raise TargetError(f"malformed target {self.spec!r}: expected "
                              "credentials-file:PATH#PROFILE")
        self.file, self.profile = file_part, profile.strip()

    @property
    def path(self) -> Path:
        return Path(self.file).expanduser()

    def touches(self) -> str:
        return (f"rewrites profile [{self.profile}] of {self.file} in one rename (other "
                "profiles, comments and the file mode kept; a 0600 backup beside it until "
                "the drill ends)")

    def _profile_lines(self, lines: list[str]) -> dict[str, int]:
        """Option name (lower case) -> line index, inside the profile's section."""
        found: dict[str, int] = {}
        inside = False
        for index, line in enumerate(lines):
            section = SECTION.match(line)
            if section:
                inside = section.group(1) == self.profile
                continue
            assignment = ASSIGNMENT.match(line.rstrip("\r\n"))
            if inside and assignment:
                found.setdefault(assignment.group(2).lower(), index)
        return found

    def extract(self, text: str, where: str) -> AccessKey:
        lines = text.splitlines(keepends=True)
        if not any((m := SECTION.match(line)) and m.group(1) == self.profile
                   for line in lines):
            raise TargetError(f"{where}: no profile [{self.profile}] in {self.file}")
        found = self._profile_lines(lines)
        if "aws_session_token" in found:
            raise TargetError(f"{where}: profile [{self.profile}] holds temporary "
                              "credentials (aws_session_token), not an IAM user's key")
        values = {}
        for name in (self.ID_NAME, self.SECRET_NAME):
            if name not in found:
                raise TargetError(f"{where}: profile [{self.profile}] has no {name}")
            match = ASSIGNMENT.match(lines[found[name]].rstrip("\r\n"))
            values[name] = match.group(4) if match else ""
        return AccessKey(values[self.ID_NAME], values[self.SECRET_NAME])

    def replace(self, text: str, key: AccessKey) -> str:
        lines = text.splitlines(keepends=True)
        found = self._profile_lines(lines)
        for name, value in ((self.ID_NAME, key.key_id), (self.SECRET_NAME, key.secret)):
            if name not in found:
                raise TargetError(f"{self.spec}: profile [{self.profile}] has no {name}")
            line = lines[found[name]]
            ending = line[len(line.rstrip("\r\n")):]
            match = ASSIGNMENT.match(line.rstrip("\r\n"))
            assert match is not None  # found by the same pattern
            lines[found[name]] = f"{match.group(1)}{match.group(2)}{match.group(3)}{value}{ending}"
        return "".join(lines)


ENV_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*?)(\s*)$")


class EnvFileTarget(FileTarget):
    """KEY=VALUE lines (dotenv, systemd EnvironmentFile, docker --env-file)."""

    kind = "env-file"
    ID_NAME = "AWS_ACCESS_KEY_ID"
    SECRET_NAME = "AWS_SECRET_ACCESS_KEY"

    def touches(self) -> str:
        return (f"rewrites {self.ID_NAME} and {self.SECRET_NAME} in {self.value} in one rename "
                "(other lines and the file mode kept; a 0600 backup beside it until the drill "
                "ends)")

    def _lines(self, lines: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, line in enumerate(lines):
            match = ENV_LINE.match(line.rstrip("\r\n"))
            if match and not line.lstrip().startswith("#"):
                found[match.group(2)] = index  # the last assignment wins, as in a shell
        return found

    @staticmethod
    def _unquote(raw: str) -> str:
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            return raw[1:-1]
        return raw

    def extract(self, text: str, where: str) -> AccessKey:
        lines = text.splitlines(keepends=True)
        found = self._lines(lines)
        values = {}
        for name in (self.ID_NAME, self.SECRET_NAME):
            if name not in found:
                raise TargetError(f"{where}: no {name}= line in {self.value}")
            match = ENV_LINE.match(lines[found[name]].rstrip("\r\n"))
            values[name] = self._unquote(match.group(4)) if match else ""
        return AccessKey(values[self.ID_NAME], values[self.SECRET_NAME])

    def replace(self, text: str, key: AccessKey) -> str:
        lines = text.splitlines(keepends=True)
        found = self._lines(lines)
        for name, value in ((self.ID_NAME, key.key_id), (self.SECRET_NAME, key.secret)):
            if name not in found:
                raise TargetError(f"{self.spec}: no {name}= line in {self.value}")
            line = lines[found[name]]
            ending = line[len(line.rstrip("\r\n")):]
            match = ENV_LINE.match(line.rstrip("\r\n"))
            assert match is not None  # found by the same pattern
            raw = match.group(4)
            quote = raw[0] if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'" else ""
            lines[found[name]] = (f"{match.group(1)}{name}{match.group(3)}"
                                  f"{quote}{value}{quote}{ending}")
        return "".join(lines)


# -- command ---------------------------------------------------------------------------


class CommandTarget(Target):
    """A program that owns the key's storage. It is run without a shell, once per
    action, with a JSON request on stdin:
    `{"action": "read"}` -> prints `{"AccessKeyId": ..., "SecretAccessKey": ...}`
    (the secret may be left out); `{"action": "write", "AccessKeyId", "SecretAccessKey",
    "UserName"}` -> stores the key atomically; `{"action": "restore", "AccessKeyId",
    ["SecretAccessKey"]}` -> puts the old key back, from its own previous value when no
    secret is given. Exit status 0 means done."""

    kind = "command"

    def __init__(self, value: str, env: TargetEnv) -> None:
        super().__init__(value, env)
        try:
            self.argv = shlex.split(value)
        except ValueError as exc:
            raise TargetError(f"malformed target {self.spec!r}: {exc}") from None
        if not self.argv:
            raise TargetError(f"malformed target {self.spec!r}: no command")

    def touches(self) -> str:
        return f"runs {self.value!r} with the new key as JSON on stdin (action \"write\")"

    def _run(self, request: Mapping[str, str]) -> str:
        try:
            done = subprocess.run(self.argv, input=json.dumps(request), capture_output=True,
                                  text=True, timeout=self.env.command_timeout, check=False)
        except FileNotFoundError:
            raise TargetError(f"{self.spec}: command not found: {self.argv[0]}") from None
        except subprocess.TimeoutExpired:
            raise TargetError(f"{self.spec}: no answer to {request['action']!r} within "
                              f"{self.env.command_timeout:g} s") from None
        except OSError as exc:
            raise TargetError(f"{self.spec}: cannot run it: {exc.strerror or exc}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [""])[-1][:200]
            said = f": {self.env.redact(last)}" if last else ""
            raise TargetError(f"{self.spec}: {request['action']!r} exited with "
                              f"{done.returncode}{said}")
        return done.stdout

    def read(self) -> AccessKey:
        out = self._run({"action": "read"})
        try:
            document = json.loads(out)
        except ValueError:
            document = None
        key_id = document.get("AccessKeyId") if isinstance(document, dict) else None
        if not isinstance(key_id, str) or not key_id:
            raise TargetError(f"{self.spec}: 'read' did not print JSON with AccessKeyId")
        assert isinstance(document, dict)
        secret = document.get("SecretAccessKey")
        return AccessKey(key_id, secret if isinstance(secret, str) else "")

    def publish(self, key: AccessKey, user: str) -> RestoreState:
        self._run({"action": "write", "AccessKeyId": key.key_id,
                   "SecretAccessKey": key.secret, "UserName": user})
        return {}

    def previous(self, state: RestoreState) -> AccessKey | None:
        return None

    def restore(self, old_key_id: str, old: AccessKey | None, state: RestoreState) -> None:
        if self.read().key_id == old_key_id:
            return
        request = {"action": "restore", "AccessKeyId": old_key_id}
        if old is not None and old.key_id == old_key_id and old.secret:
            request["SecretAccessKey"] = old.secret
        self._run(request)


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
