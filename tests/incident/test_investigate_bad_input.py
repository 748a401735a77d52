"""Bad input to `irready investigate` and `irready report investigation`: one
`irready: error:` line and the documented exit code (2 usage, 3 no source could be
read), nothing on stdout, no traceback, and a pasted secret never repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clikit import irready
from investigatekit import BUCKET, leaked_user

from auditor.errors import ExitCode

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY = "AKIAIOSFODNN7EXAMPLE"
STORE = "{tmp}/xdg-data/irready/history.sqlite3"


@pytest.fixture(autouse=True)
def account(aws: Any) -> Any:
    return aws


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(("AKIA123",), ExitCode.USAGE,
                     "'AKIA123' is not an access key id: expected AKIA or ASIA followed by 16 "
                     "letters or digits (20 characters)", id="a malformed key id"),
        pytest.param((SECRET,), ExitCode.USAGE,
                     "that looks like a secret access key, not an access key id; it was not "
                     "stored or shown. Give the key id (AKIA... or ASIA..., 20 characters), "
                     "and rotate the secret if it was pasted where others can see it",
                     id="a secret access key pasted by mistake"),
        pytest.param((KEY, "--from", "2026-12-03", "--to", "2026-12-02"), ExitCode.USAGE,
                     "--from (2026-12-03T00:00:00Z) is not before --to (2026-12-02T00:00:00Z)",
                     id="from after to"),
        pytest.param((KEY, "--since", "7d", "--from", "2026-12-01"), ExitCode.USAGE,
                     "--since and --from/--to both set the window: give one or the other",
                     id="since and from"),
        pytest.param((KEY, "--since", "a week"), ExitCode.USAGE,
                     "--since: 'a week' is not a duration: use a number and a unit, as in "
                     "30d, 12h, 2w or 90m", id="a window that is no duration"),
        pytest.param((KEY, "--source", "cloudtrail"), ExitCode.USAGE,
                     "--source: unknown source 'cloudtrail': use auto, s3, s3://BUCKET[/PREFIX], "
                     "local:DIR, lookup or athena", id="an unknown source"),
        pytest.param((KEY, "--source", "local:{tmp}/nowhere"), ExitCode.USAGE,
                     "--source local:{tmp}/nowhere: {tmp}/nowhere does not exist",
                     id="a local copy that is not there"),
        pytest.param((KEY, "--output", "inv.docx"), ExitCode.USAGE,
                     "--output inv.docx: irready writes no .docx format (it writes .csv, .htm, "
                     ".html, .json, .markdown, .md, .pdf, .txt): rename the file or pass "
                     "--format",
                     id="an extension irready does not write"),
        pytest.param((KEY, "--format", "docx"), ExitCode.USAGE,
                     "Invalid value for '--format' / '-f': 'docx' is not one of 'terminal', "
                     "'json', 'markdown', 'csv', 'html', 'pdf' (see 'irready investigate "
                     "--help')",
                     id="a format investigate does not write"),
        pytest.param((KEY, "--max-scan-gb", "0"), ExitCode.USAGE,
                     "Invalid value for '--max-scan-gb': must be greater than or equal to 0.001 "
                     "(see 'irready investigate --help')", id="an Athena budget of nothing"),
        pytest.param((KEY, "--source", "lookup", "--since", "120d"), ExitCode.USAGE,
                     "--source lookup: event history keeps 90 days: the window starts {start}, "
                     "30 days before that: name the trail's logs too (--source s3 or "
                     "local:DIR), or shorten the window",
                     id="event history alone for a window it cannot reach"),
        pytest.param((KEY, "--notify"), ExitCode.USAGE,
                     "--notify: the config sets no [notify] channel (webhook_url, "
                     "sns_topic_arn or email_to)", id="notify with nowhere to send"),
        pytest.param((KEY, "--from", "0001-01-01", "--to", "0001-01-05"), ExitCode.USAGE,
                     "--from, --to, --since or --baseline reaches before the year 1 or after "
                     "9999: give a window of this era", id="a window before the calendar"),
        pytest.param((KEY, "--workers", "0"), ExitCode.USAGE,
                     "Invalid value for '--workers': must be greater than or equal to 1 (see "
                     "'irready investigate --help')", id="no workers"),
        pytest.param((KEY, "--source", "s3"), ExitCode.UNAVAILABLE,
                     "no audit of this account is stored, so no trail bucket is known: run "
                     "`irready audit` first, or name the logs with --source "
                     "s3://BUCKET[/PREFIX] or --source local:DIR", id="no audit knows a trail"),
        pytest.param((KEY, "--profile", "prod-typo", "--source", f"s3://{BUCKET}"),
                     ExitCode.UNAVAILABLE,
                     "no source could be read: The config profile (prod-typo) could not be "
                     "found", id="no AWS reachable for an S3 source"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], code: ExitCode,
                               message: str) -> None:
    result = irready("investigate", *(arg.format(tmp=tmp_path) for arg in args))
    start = f"{datetime.now(UTC) - timedelta(days=120):%Y-%m-%d}"
    assert result.stderr == f"irready: error: {message.format(tmp=tmp_path, start=start)}\n"
    assert result.exit_code == code
    assert result.stdout == ""
    assert SECRET not in result.output


def test_a_bucket_that_does_not_exist_is_no_source(tmp_path: Path, aws: Any) -> None:
    key_id, _ = leaked_user(aws)
    result = irready("investigate", key_id, "--source", "s3://no-such-trail-bucket")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert result.stderr.startswith("irready: error: no source could be read: ")
    assert "no-such-trail-bucket" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_damaged_store_is_named_before_anything_is_read(tmp_path: Path) -> None:
    store = Path(STORE.format(tmp=tmp_path))
    store.parent.mkdir(parents=True)
    store.write_bytes(b"not a database" * 100)
    result = irready("investigate", KEY, "--source", f"s3://{BUCKET}")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"irready: error: the history store {store} ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param((), ExitCode.USAGE, "no history store at {store}: run `irready audit` "
                     "first, or pass --history PATH", id="nothing stored"),
        pytest.param(("--key", "nope"), ExitCode.USAGE,
                     "'nope' is not an access key id: expected AKIA or ASIA followed by 16 "
                     "letters or digits (20 characters)", id="a malformed --key"),
        pytest.param(("--investigation", "nope-id"), ExitCode.USAGE,
                     "no investigation 'nope-id' in {store}: `irready history` lists them",
                     id="an investigation that is not stored"),
        pytest.param(("--key", KEY), ExitCode.USAGE,
                     "no history store at {store}: run `irready audit` first, or pass "
                     "--history PATH", id="a key never investigated, nothing stored"),
    ],
)
def test_report_investigation_bad_input(tmp_path: Path, args: tuple[str, ...], code: ExitCode,
                                        message: str) -> None:
    if "nope-id" in args:  # a store that exists, without that investigation
        from auditor.store import HistoryStore

        Path(STORE.format(tmp=tmp_path)).parent.mkdir(parents=True)
        HistoryStore(Path(STORE.format(tmp=tmp_path))).close()
    result = irready("report", "investigation", *args)
    store = STORE.format(tmp=tmp_path)
    assert result.stderr == f"irready: error: {message.format(store=store)}\n"
    assert result.exit_code == code


def test_report_of_a_key_never_investigated_names_it(tmp_path: Path) -> None:
    from auditor.store import HistoryStore

    store = Path(STORE.format(tmp=tmp_path))
    store.parent.mkdir(parents=True)
    HistoryStore(store).close()
    result = irready("report", "investigation", "--key", KEY, "--account", "123456789012")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (f"irready: error: no investigations of key {KEY} in account "
                             f"123456789012 in {store}: run `irready investigate KEY_ID` "
                             "first\n")


def test_a_stored_investigation_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    from auditor.store import HistoryStore, InvestigationRecord

    store = Path(STORE.format(tmp=tmp_path))
    store.parent.mkdir(parents=True)
    now = datetime.now(UTC)
    with HistoryStore(store) as history:
        history.record_investigation(InvestigationRecord(
            "20261206-000000-abcdef", "123456789012", KEY, now, now, now, now, True, 0, 0),
            '{"schema": "irready.investigation/2"}')
    result = irready("report", "investigation", "--key", KEY)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"irready: error: investigation 20261206-000000-abcdef in "
                                    f"{store} cannot be read (")
    assert result.stderr.count("\n") == 1
