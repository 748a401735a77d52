"""Bad input to `irready playbook`: one `irready: error:` line and the documented exit
code (2 for the command line and config, 3 when no account can be reached), nothing on
stdout, no traceback, nothing written and no audit stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clikit import irready, write_config

from auditor.errors import ExitCode

CONFIG = "bad.toml"
STORE = "{tmp}/xdg-data/irready/history.sqlite3"


@pytest.fixture(autouse=True)
def account(aws: Any) -> Any:
    return aws


@pytest.mark.parametrize(
    ("args", "config", "code", "message"),
    [
        pytest.param(("--no-audit",), None, ExitCode.USAGE,
                     f"no complete audit of any account is stored in {STORE}: run "
                     "`irready audit` first", id="--no-audit with nothing stored"),
        pytest.param(("--no-audit", "--account", "111122223333"), None, ExitCode.USAGE,
                     f"no complete audit of account 111122223333 is stored in {STORE}: run "
                     "`irready audit` first", id="--no-audit for an account never audited"),
        pytest.param(("--verify", "missing.md"), None, ExitCode.USAGE,
                     "--verify: cannot read missing.md: No such file or directory",
                     id="--verify a file that is not there"),
        pytest.param(("--verify", "committed.md", "--output", "new.md"), None, ExitCode.USAGE,
                     "--verify compares FILE with a fresh rendering and writes nothing: "
                     "leave --output out", id="--verify with --output"),
        pytest.param(("--verify", "committed.md", "--format", "pdf"), None, ExitCode.USAGE,
                     "--verify: --format must be markdown or json", id="--verify as a PDF"),
        pytest.param(("--output", "playbook.docx"), None, ExitCode.USAGE,
                     "--output playbook.docx: irready writes no .docx format (it writes .html, "
                     ".json, .markdown, .md, .pdf): rename the file or pass --format",
                     id="an extension irready does not write"),
        pytest.param(("--format", "docx"), None, ExitCode.USAGE,
                     "Invalid value for '--format' / '-f': 'docx' is not one of 'markdown', "
                     "'html', 'pdf', 'json' (see 'irready playbook --help')",
                     id="an unknown format"),
        pytest.param(("--config", CONFIG), '[playbook]\nowner = "me"\n', ExitCode.USAGE,
                     "bad.toml: playbook: unknown key 'owner' (known keys: incident_lead, "
                     "max_age_days, notes, path, required, support_plan, vendors)",
                     id="an unknown [playbook] key"),
        pytest.param(("--config", CONFIG), '[playbook]\nvendors = "ci"\n', ExitCode.USAGE,
                     "bad.toml: playbook.vendors: expected a list", id="vendors not a list"),
        pytest.param(("--config", CONFIG), "[playbook]\nmax_age_days = 0\n", ExitCode.USAGE,
                     "bad.toml: playbook.max_age_days: must be a positive number of days",
                     id="a playbook that can never be current"),
        pytest.param(("--config", CONFIG), '[playbook]\nnotes = "nope.md"\n', ExitCode.USAGE,
                     "bad.toml: playbook.notes: cannot read {tmp}/nope.md: No such file or "
                     "directory", id="a notes file that is not there"),
        pytest.param(("--profile", "prod-typo"), None, ExitCode.UNAVAILABLE,
                     "The config profile (prod-typo) could not be found",
                     id="no AWS reachable for the audit it needs first"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(
        tmp_path: Path, args: tuple[str, ...], config: str | None, code: ExitCode,
        message: str) -> None:
    if config is not None:
        write_config(tmp_path, config, CONFIG)
    (tmp_path / "committed.md").write_text("# Incident playbook\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = irready("playbook", *args)
    assert result.exit_code == code
    assert result.stderr == f"irready: error: {message.format(tmp=tmp_path)}\n"
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "xdg-data") == before
    store = Path(STORE.format(tmp=tmp_path))
    assert not store.exists() or store.stat().st_size == 0 or _runs(store) == 0


def _runs(path: Path) -> int:
    from auditor.store import HistoryStore

    with HistoryStore(path) as store:
        return len(store.runs())
