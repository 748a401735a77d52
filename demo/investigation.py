"""The story's last act: the leaked key's attack, logged by the simulated trail, and
`irready investigate` on it: what the attacker did next and what they left behind."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.account import LEAKED_USER
from demo.attack import write_attack_logs
from incident.investigate.jsonform import render_json
from incident.investigate.model import Investigation
from incident.investigate.plan import Limits
from incident.investigate.run import Request, run_investigation
from incident.investigate.source_spec import SourceKind, SourceSpec
from incident.investigate.stored import store_investigation
from incident.investigate.window import make_window
from reports.formats import write_output
from reports.investigation_markdown import render_markdown
from reports.investigation_report import render_investigation_pdf

if TYPE_CHECKING:
    from auditor.snapshot import AccountSnapshot
    from auditor.store import HistoryStore

SINCE = "7d"


def leaked_key_id(session: Any) -> str:
    keys = session.client("iam").list_access_keys(UserName=LEAKED_USER)["AccessKeyMetadata"]
    return str(keys[0]["AccessKeyId"])


def investigate_leak(session: Any, store: HistoryStore, bucket: str, now: datetime,
                     output_dir: Path) -> tuple[Investigation, tuple[Path, ...]]:
    """Write the attack's logs, investigate the leaked key over the last week, store the
    result and write it as JSON, Markdown (the ticket) and the incident report's PDF."""
    from auditor import __version__
    from auditor.clock import utcnow
    from auditor.session import AwsContext

    key = leaked_key_id(session)
    write_attack_logs(session, bucket, key, now)
    window = make_window(now, since=SINCE, start=None, end=None, baseline="14d")

    def snapshot_of(account: str) -> AccountSnapshot | None:
        latest = store.latest_snapshot(account)
        return None if latest is None else latest[1]

    result = run_investigation(Request(key, window, (SourceSpec(SourceKind.AUTO),),
                                       Limits(workers=1)),
                               context=lambda: AwsContext(session=session),
                               snapshot_of=snapshot_of, clock=utcnow)
    store_investigation(store, result)
    json_path = output_dir / "investigation.json"
    markdown_path = output_dir / "investigation.md"
    pdf_path = output_dir / "investigation.pdf"
    write_output(json_path, render_json(result, tool_version=__version__).encode())
    write_output(markdown_path, render_markdown(result).encode())
    write_output(pdf_path, render_investigation_pdf(result))
    return result, (json_path, markdown_path, pdf_path)
