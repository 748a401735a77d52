"""An env file (`env-file:PATH`): KEY=VALUE lines as dotenv, a systemd EnvironmentFile
or docker --env-file read them; only the two key lines change, quotes kept."""

from __future__ import annotations

import re

from drills.errors import TargetError
from drills.model import AccessKey
from drills.targets.files import FileTarget

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

