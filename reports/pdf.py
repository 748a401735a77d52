"""HTML to PDF through weasyprint. Imported lazily: weasyprint costs about 0.6 s to
import, which `irready --help` and every non-PDF report should not pay. Only fonts the
templates name (DejaVu) are assumed to exist."""

from __future__ import annotations

import logging


def html_to_pdf(html: str) -> bytes:
    """The same HTML and weasyprint version give the same bytes (no clock is read)."""
    from weasyprint import HTML

    # weasyprint logs every CSS property it ignores; that is noise for a user
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
