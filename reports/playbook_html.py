"""The playbook's HTML and PDF: its Markdown (the one rendering `irready playbook`
makes) through markdown-it (CommonMark with tables, raw HTML disabled so a team's notes
cannot inject markup) inside the reports' page frame. Same Markdown, same bytes."""

from __future__ import annotations

from markupsafe import Markup

from auditor import __version__
from reports.html import render_html


def playbook_html(markdown: str, account_id: str, as_of: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return render_html("playbook.html.j2", body=Markup(body),  # escaped by markdown-it
                       tool_version=__version__, created=as_of,
                       doc_title=f"Incident playbook: AWS account {account_id}",
                       header_right=f"account {account_id}",
                       footer_left=f"irready {__version__} · status as of {as_of}")


def playbook_pdf(markdown: str, account_id: str, as_of: str) -> bytes:
    from reports.pdf import html_to_pdf

    return html_to_pdf(playbook_html(markdown, account_id, as_of))
