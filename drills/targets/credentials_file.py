"""The AWS shared credentials file (`credentials-file:PATH#PROFILE`): only the two key
lines of one profile change; other profiles, comments and the file mode are kept."""

from __future__ import annotations

import re
from pathlib import Path

from drills.errors import TargetError
from drills.model import AccessKey
from drills.targets.base import TargetEnv
from drills.targets.files import FileTarget

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

