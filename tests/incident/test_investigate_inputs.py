"""What a responder types into `irready investigate`, checked before anything is read:
the key id (never echoing a pasted secret), the window and the sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor.errors import UsageError
from incident.investigate.keyids import checked_key_id
from incident.investigate.source_spec import SourceKind, parse_source, parse_sources
from incident.investigate.window import make_window

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_a_key_id_is_accepted_as_given() -> None:
    assert checked_key_id(" AKIAIOSFODNN7EXAMPLE ") == "AKIAIOSFODNN7EXAMPLE"
    assert checked_key_id("ASIAQDEMOSESSION0001") == "ASIAQDEMOSESSION0001"


@pytest.mark.parametrize(("value", "message"), [
    ("AKIA123", "'AKIA123' is not an access key id: expected AKIA or ASIA followed by 16 "
                "letters or digits (20 characters)"),
    ("akiaiosfodnn7example", "'akiaiosfodnn7example' is not an access key id: key ids are "
                             "upper case (AKIAIOSFODNN7EXAMPLE)"),
    ("AIDAIOSFODNN7EXAMPLE", "'AIDAIOSFODNN7EXAMPLE' is not an access key id: expected AKIA "
                             "or ASIA followed by 16 letters or digits (20 characters)"),
    ("AKIA/OSFODNN7EXAMPL", "the value given is not an access key id: expected AKIA or ASIA "
                            "followed by 16 letters or digits (20 characters)"),
])
def test_a_malformed_key_id_is_named(value: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        checked_key_id(value)
    assert raised.value.message == message


@pytest.mark.parametrize("value", [SECRET, SECRET + "x", f"AKIAIOSFODNN7EXAMPLE:{SECRET}"])
def test_a_pasted_secret_is_refused_without_being_repeated(value: str) -> None:
    with pytest.raises(UsageError) as raised:
        checked_key_id(value)
    assert "looks like a secret access key" in raised.value.message
    assert SECRET not in raised.value.message
    assert SECRET[:20] not in raised.value.message


def test_the_window_defaults_to_thirty_days_and_a_baseline_before_it() -> None:
    window = make_window(NOW, since=None, start=None, end=None, baseline="14d")
    assert (window.start, window.end) == (NOW - timedelta(days=30), NOW)
    assert window.baseline_start == NOW - timedelta(days=44)


def test_from_and_to_read_dates_and_times_as_utc() -> None:
    window = make_window(NOW, since=None, start="2026-12-01", end="2026-12-02T13:00:00+01:00",
                         baseline="2w")
    assert window.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert window.baseline_start == datetime(2026, 11, 17, tzinfo=UTC)


@pytest.mark.parametrize(("since", "start", "end", "baseline", "message"), [
    ("30d", "2026-12-01", None, "14d",
     "--since and --from/--to both set the window: give one or the other"),
    (None, "2026-12-03", "2026-12-02", "14d",
     "--from (2026-12-03T00:00:00Z) is not before --to (2026-12-02T00:00:00Z)"),
    (None, "2027-01-01", None, "14d",
     "--from (2027-01-01T00:00:00Z) is not before --to (2026-12-05T12:00:00Z)"),
    ("thirty", None, None, "14d",
     "--since: 'thirty' is not a duration: use a number and a unit, as in 30d, 12h, 2w or 90m"),
    (None, "yesterday", None, "14d",
     "--from: 'yesterday' is not a time: use ISO 8601, as in 2026-12-01 or "
     "2026-12-01T12:11:00Z"),
    ("30d", None, None, "-1d",
     "--baseline: '-1d' is not a duration: use a number and a unit, as in 30d, 12h, 2w or 90m"),
    ("99999w", None, None, "14d", "--since: 99999w is longer than ten years"),
])
def test_a_window_that_cannot_be_searched_is_refused(
        since: str | None, start: str | None, end: str | None, baseline: str,
        message: str) -> None:
    with pytest.raises(UsageError) as raised:
        make_window(NOW, since=since, start=start, end=end, baseline=baseline)
    assert raised.value.message == message


def test_sources_name_a_bucket_a_folder_or_the_audited_trails(tmp_path: Path) -> None:
    assert parse_sources(None)[0].kind is SourceKind.AUTO
    assert [parse_source(kind).kind for kind in ("s3", "lookup", "athena")] == [
        SourceKind.S3, SourceKind.LOOKUP, SourceKind.ATHENA]
    assert not parse_source(f"local:{tmp_path}").needs_aws
    bucket = parse_source("s3://trail-logs-123/org/prefix/")
    assert (bucket.kind, bucket.bucket, bucket.prefix) == (SourceKind.S3, "trail-logs-123",
                                                           "org/prefix")
    assert parse_source(f"local:{tmp_path}").path == tmp_path
    assert len(parse_sources(["s3", "s3"])) == 1


@pytest.mark.parametrize(("value", "message"), [
    ("cloudtrail", "--source: unknown source 'cloudtrail': use auto, s3, s3://BUCKET[/PREFIX], "
                   "local:DIR, lookup or athena"),
    ("s3://Bad_Bucket", "--source s3://Bad_Bucket: 'Bad_Bucket' is not an S3 bucket name"),
    ("local:", "--source local: needs a folder, as in local:./cloudtrail-copy"),
    ("local:{tmp}/missing", "--source local:{tmp}/missing: {tmp}/missing does not exist"),
    ("local:{tmp}/file.txt", "--source local:{tmp}/file.txt: {tmp}/file.txt is not a folder"),
])
def test_a_source_that_cannot_be_read_is_refused(tmp_path: Path, value: str,
                                                 message: str) -> None:
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(UsageError) as raised:
        parse_source(value.format(tmp=tmp_path))
    assert raised.value.message == message.format(tmp=tmp_path)
