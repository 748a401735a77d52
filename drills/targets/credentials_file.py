"""The AWS shared credentials file (`credentials-file:PATH#PROFILE`): only the two key
lines of one profile change; other profiles, comments and the file mode are kept."""

from __future__ import annotations

import re
from pathlib import Path

from drills.errors import TargetError
from drills.targets.base import TargetEnv
from drills.targets.files import FileTarget

SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
ASSIGNMENT = re.compile(r"^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)(.*?)(\s*)$")


class CredentialsFileTarget(FileTarget):
    """The AWS shared credentials file; only the two lines of one profile change."""

    kind = "credentials-file"
    ID_NAME = "aws_access_key_id"
    SECRET_NAME = "aws_secret_access_key"
    LINE = ASSIGNMENT

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

    def key_lines(self, lines: list[str]) -> dict[str, int]:
        return self._profile_lines(lines)

    def missing(self, name: str) -> str:
        return f"profile [{self.profile}] has no {name}"

    def check(self, lines: list[str], found: dict[str, int], where: str) -> None:
        if not any((m := SECTION.match(line)) and m.group(1) == self.profile
                   for line in lines):
            raise TargetError(f"{where}: no profile [{self.profile}] in {self.file}")
        if "aws_session_token" in found:
            raise TargetError(f"{where}: profile [{self.profile}] holds temporary "
                              "credentials (aws_session_token), not an IAM user's key")
