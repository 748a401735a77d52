"""A command target (`command:CMD`): a program that owns the key's storage. Secrets
travel in memory only: the key goes to it as JSON on stdin, never in its arguments or
environment; it must keep its own previous value for a restore."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Mapping

from drills.errors import TargetError
from drills.model import AccessKey
from drills.targets.base import RestoreState, Target, TargetEnv


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

