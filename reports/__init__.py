"""Renderers: the terminal table, JSON and the other machine formats, HTML and PDF.
They read AuditRuns and drill records; they never talk to AWS."""
