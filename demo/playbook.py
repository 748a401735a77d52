"""The demo's playbooks: the one the story's first week would have had (every step that
breaks says so) and today's, after the fixes, in Markdown and PDF."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from auditor.config import Config
from auditor.store import HistoryStore
from incident.playbook.build import build_playbook
from incident.playbook.markdown import render_markdown
from incident.playbook.stored import record_playbook, stored_sources
from reports.formats import write_output


def write_playbook(store: HistoryStore, config: Config, path: Path, at: datetime, *,
                   pdf: bool = False) -> tuple[Path, ...]:
    """`path` (Markdown), and beside it its PDF when `pdf`; from the newest snapshot,
    recorded as written `at` (the demo's simulated time)."""
    sources = stored_sources(store, config, None)
    if sources is None:  # the demo's audits are complete: a snapshot is always stored
        raise RuntimeError("the demo's audit stored no account snapshot")
    today = at.date()
    book = build_playbook(sources, today)
    text = render_markdown(book)
    write_output(path, text.encode())
    record_playbook(store, sources, at)
    if not pdf:
        return (path,)
    from reports.playbook_html import playbook_pdf

    pdf_path = path.with_suffix(".pdf")
    write_output(pdf_path, playbook_pdf(text, book.account_id, today.isoformat()))
    return path, pdf_path
