"""An env file (`env-file:PATH`): KEY=VALUE lines as dotenv, a systemd EnvironmentFile
or docker --env-file read them; only the two key lines change, quotes kept."""

from __future__ import annotations

import re

from drills.targets.files import FileTarget

ENV_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*?)(\s*)$")


class EnvFileTarget(FileTarget):
    """KEY=VALUE lines (dotenv, systemd EnvironmentFile, docker --env-file)."""

    kind = "env-file"
    ID_NAME = "AWS_ACCESS_KEY_ID"
    SECRET_NAME = "AWS_SECRET_ACCESS_KEY"
    LINE = ENV_LINE
    QUOTED = True

    def touches(self) -> str:
        return (f"rewrites {self.ID_NAME} and {self.SECRET_NAME} in {self.value} in one rename "
                "(other lines and the file mode kept; a 0600 backup beside it until the drill "
                "ends)")

    def key_lines(self, lines: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, line in enumerate(lines):
            match = ENV_LINE.match(line.rstrip("\r\n"))
            if match and not line.lstrip().startswith("#"):
                found[match.group(2)] = index  # the last assignment wins, as in a shell
        return found

    def missing(self, name: str) -> str:
        return f"no {name}= line in {self.value}"
