"""What the search asks of a place that holds CloudTrail records: every record that
names one of some key ids, in one account, from a moment on. The trail's log files
(S3 or a local copy) answer it by reading files; CloudTrail's event history and an
Athena table answer it with queries. Each says, in its report, how much it read and
what it could not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from incident.investigate.model import SourceReport

Progress = Callable[[str, int, int], None]  # (what, done, total) of one pass


class RecordSource(Protocol):
    @property
    def kind(self) -> str:  # s3 | local | lookup | athena
        ...

    @property
    def location(self) -> str:
        ...

    @property
    def interrupted(self) -> bool:
        """Ctrl-C stopped a slow source (event history): the search ends with what it
        found so far, incomplete."""
        ...

    @property
    def answered(self) -> bool:
        """Something was read: a file, an event history page, a query's results. A
        source that answered nothing cannot say that nothing happened."""
        ...

    def holds(self, account: str) -> bool:
        """Whether calls made in `account` are in this source (after a first search)."""
        ...

    def find(self, keys: tuple[str, ...], account: str | None, since: datetime | None,
             progress: Progress | None) -> list[dict[str, Any]]:
        """Every record naming one of `keys`, of `account` (None: any), at or after
        `since` (None: the whole window). Failures are kept for the report, not raised."""
        ...

    def report(self) -> SourceReport:
        ...
