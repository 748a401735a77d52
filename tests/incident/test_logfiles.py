"""The trail's log files: written in CloudTrail's layout, listed (only the window's day
folders) and searched in moto's S3 and on disk, with every kind of bad file or denied
folder named as a problem."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from logfilekit import (
    ACCOUNT,
    BUCKET,
    FIRST_DAY,
    KEY,
    LAST_DAY,
    MATCHES_OF_KEY,
    MEMBER,
    ORG,
    SESSION_KEY,
    START,
    deny,
    files_of,
    outside_window,
    put_all,
    record_calls,
    story,
    write_all,
)

from demo.cloudtrail_files import group_into_files, log_key
from incident.investigate.logfiles import (
    LocalLogs,
    LogFile,
    LogSourceError,
    S3Logs,
    ScanResult,
    records_after,
    scan,
)
from incident.investigate.logfiles.examine import examine

DAY = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/01"


def ids(result: ScanResult) -> list[str]:
    return [record["eventID"] for record in result.records]


@pytest.fixture
def s3(aws: Any) -> Any:
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_log_key_has_cloudtrails_layout() -> None:
    delivered = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    plain = log_key(ACCOUNT, "eu-west-1", delivered)
    org = log_key(MEMBER, "eu-west-1", delivered, prefix="/trails/", org_id=ORG)
    folder, name = plain.rsplit("/", 1)
    assert folder == f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/12/01"
    assert name.startswith(f"{ACCOUNT}_CloudTrail_eu-west-1_20261201T1405Z_")
    assert name.endswith(".json.gz")
    assert len(name.removesuffix(".json.gz").rsplit("_", 1)[1]) == 16
    assert org.startswith(f"trails/AWSLogs/{ORG}/{MEMBER}/CloudTrail/eu-west-1/2026/12/01/")


def test_an_event_before_midnight_is_delivered_in_the_next_days_folder() -> None:
    midnight = [record for record in story() if record["eventID"] == "e-midnight"]
    [(account, region, delivered, batch)] = list(group_into_files(midnight))
    assert (account, region, delivered) == (ACCOUNT, "us-east-1",
                                            datetime(2026, 12, 2, tzinfo=UTC))
    assert batch == midnight
    assert "/2026/12/02/" in log_key(account, region, delivered)


def test_s3_plain_layout_finds_every_record_naming_the_key(s3: Any) -> None:
    put_all(s3, files_of(story()))
    store = S3Logs(s3, BUCKET)
    listing = store.list_files(None, FIRST_DAY, LAST_DAY)
    assert listing.accounts == {ACCOUNT, MEMBER}
    assert listing.regions[ACCOUNT] == ("eu-west-1", "us-east-1")
    assert listing.regions[MEMBER] == ("us-west-2",)
    assert listing.problems == ()
    result = scan(store, listing.files, [KEY], workers=1)
    assert sorted(ids(result)) == sorted(MATCHES_OF_KEY)
    assert result.files_read == len(listing.files)
    assert result.records_scanned == len(story())
    assert result.problems == ()


def test_only_the_windows_day_folders_are_listed_and_fetched(s3: Any) -> None:
    put_all(s3, files_of(story() + outside_window()))
    calls = record_calls(s3)
    store = S3Logs(s3, BUCKET)
    listing = store.list_files([ACCOUNT], FIRST_DAY, LAST_DAY)
    result = scan(store, listing.files, [KEY], workers=1)
    assert "e-before" not in ids(result)
    assert "e-after" not in ids(result)
    day_prefixes = {params["Prefix"] for name, params in calls
                    if name == "ListObjectsV2" and params["Prefix"].count("/") == 7}
    assert {prefix.split("CloudTrail/")[1] for prefix in day_prefixes} == {
        f"{region}/2026/12/{day:02d}/" for region in ("eu-west-1", "us-east-1")
        for day in (1, 2)}
    fetched = [params["Key"] for name, params in calls if name == "GetObject"]
    assert len(fetched) == len(listing.files)
    assert all(("/2026/12/01/" in key or "/2026/12/02/" in key) for key in fetched)
    assert not any(f"/{MEMBER}/" in key for key in fetched)  # not an account asked for


@pytest.mark.parametrize("prefix", ["trail/logs", "trail/logs/", "/trail/logs/"])
def test_s3_organization_layout_under_a_prefix(s3: Any, prefix: str) -> None:
    put_all(s3, files_of(story(), prefix="trail/logs", org=True))
    store = S3Logs(s3, f"{BUCKET}/", prefix)
    assert store.location == f"s3://{BUCKET}/trail/logs"
    listing = store.list_files(None, FIRST_DAY, LAST_DAY)
    assert listing.accounts == {ACCOUNT, MEMBER}
    assert all(file.location.startswith(f"trail/logs/AWSLogs/{ORG}/") for file in listing.files)
    result = scan(store, listing.files, [KEY, SESSION_KEY], workers=1)
    assert sorted(ids(result)) == sorted([*MATCHES_OF_KEY, "e-session-use"])


def test_a_file_knows_its_account_region_day_and_delivery(s3: Any) -> None:
    put_all(s3, files_of(story()))
    listing = S3Logs(s3, BUCKET).list_files([MEMBER], FIRST_DAY, LAST_DAY)
    [file] = listing.files
    assert (file.account_id, file.region, file.day) == (MEMBER, "us-west-2", FIRST_DAY)
    assert file.delivered == START + timedelta(minutes=45)
    assert file.size > 0


def test_needles_found_only_in_request_and_response_elements(s3: Any) -> None:
    put_all(s3, files_of(story()))
    store = S3Logs(s3, BUCKET)
    result = scan(store, store.list_files(None, FIRST_DAY, LAST_DAY).files, [KEY])
    by_id = {record["eventID"]: record for record in result.records}
    assert by_id["e-admin-request"]["requestParameters"]["accessKeyId"] == KEY
    assert by_id["e-admin-request"]["userIdentity"]["accessKeyId"] != KEY
    assert by_id["e-admin-response"]["responseElements"]["accessKeyMetadata"][0][
        "accessKeyId"] == KEY


def test_a_denied_region_folder_is_a_problem_and_the_rest_is_read(s3: Any) -> None:
    put_all(s3, files_of(story()))
    deny(s3, "ListObjectsV2",
         lambda params: "/CloudTrail/eu-west-1/" in params.get("Prefix", ""))
    store = S3Logs(s3, BUCKET)
    listing = store.list_files([ACCOUNT], FIRST_DAY, LAST_DAY)
    assert {problem.location for problem in listing.problems} == {
        f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/12/01",
        f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/12/02"}
    assert {problem.reason for problem in listing.problems} == {
        "AccessDenied: s3:ListBucket denied"}
    assert {file.region for file in listing.files} == {"us-east-1"}


def test_a_denied_region_list_is_a_problem(s3: Any) -> None:
    put_all(s3, files_of(story()))
    deny(s3, "ListObjectsV2",
         lambda params: params.get("Prefix", "").endswith(f"{MEMBER}/CloudTrail/"))
    listing = S3Logs(s3, BUCKET).list_files(None, FIRST_DAY, LAST_DAY)
    assert [(p.location, p.reason) for p in listing.problems] == [
        (f"s3://{BUCKET}/AWSLogs/{ORG}/{MEMBER}/CloudTrail",
         "AccessDenied: s3:ListBucket denied")]
    assert MEMBER in listing.accounts
    assert MEMBER not in listing.regions


def test_a_denied_bucket_root_raises_one_line_naming_bucket_and_permission(s3: Any) -> None:
    deny(s3, "ListObjectsV2", lambda params: params.get("Prefix") == "AWSLogs/")
    with pytest.raises(LogSourceError) as raised:
        S3Logs(s3, BUCKET).list_files(None, FIRST_DAY, LAST_DAY)
    message = str(raised.value)
    assert "\n" not in message
    assert f"s3://{BUCKET}/AWSLogs/" in message
    assert "s3:ListBucket" in message


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        pytest.param("AccessDenied", "User: arn:aws:iam::123456789012:user/x is not authorized "
                     "to perform: kms:Decrypt on the resource associated with this ciphertext",
                     "AccessDenied: kms:Decrypt denied for the object's KMS key",
                     id="kms key policy denies"),
        pytest.param("KMS.AccessDeniedException", "denied",
                     "KMS.AccessDeniedException: kms:Decrypt denied for the object's KMS key",
                     id="kms error code"),
        pytest.param("AccessDenied", "Access Denied", "AccessDenied: s3:GetObject denied",
                     id="bucket policy denies"),
        pytest.param("NoSuchKey", "gone", "vanished: NoSuchKey (deleted after it was listed)",
                     id="deleted after listing"),
    ],
)
def test_a_failed_get_object_is_a_named_problem(s3: Any, code: str, message: str,
                                                expected: str) -> None:
    put_all(s3, files_of(story()))
    store = S3Logs(s3, BUCKET)
    files = store.list_files([ACCOUNT], FIRST_DAY, FIRST_DAY).files
    denied = files[0]
    deny(s3, "GetObject", lambda params: params.get("Key") == denied.location,
         code=code, message=message, status=404 if code == "NoSuchKey" else 403)
    result = scan(store, files, [KEY], workers=1)
    assert [(p.location, p.reason) for p in result.problems] == [
        (f"s3://{BUCKET}/{denied.location}", expected)]
    assert result.files_read == len(files) - 1


def bad_files(root: Path) -> dict[str, str]:
    """Bad files in one day folder: name -> the reason expected."""
    folder = root / DAY
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{ACCOUNT}_CloudTrail_us-east-1_20261201T2205Z_"
    good = gzip.compress(json.dumps({"Records": story()[:3]}).encode())
    (folder / f"{stem}truncatedAAAAAAA.json.gz").write_bytes(good[: len(good) // 2])
    (folder / f"{stem}corruptAAAAAAAAA.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 9)
    (folder / f"{stem}fooAAAAAAAAAAAAA.json.gz").write_bytes(gzip.compress(b'{"foo":1}'))
    (folder / f"{stem}digestAAAAAAAAAA.json.gz").write_bytes(gzip.compress(json.dumps({
        "awsAccountId": ACCOUNT, "digestStartTime": "2026-12-01T21:00:00Z",
        "logFiles": [{"s3Object": f"{DAY}/x.json.gz"}]}).encode()))
    (folder / f"{stem}invalidAAAAAAAAA.json.gz").write_bytes(
        gzip.compress(b'{"Records": [{"eventVersion": "1.09", "x": ' + KEY.encode() + b"}]}"))
    (folder / f"{stem}emptyAAAAAAAAAAA.json.gz").write_bytes(b"")
    (folder / "README.txt").write_text("copied from the bucket")
    return {"truncatedAAAAAAA": "truncated gzip",
            "corruptAAAAAAAAA": "corrupt gzip",
            "fooAAAAAAAAAAAAA": "no Records: not a CloudTrail log file",
            "digestAAAAAAAAAA": "no Records: a CloudTrail digest file",
            "invalidAAAAAAAAA": "invalid JSON",
            "emptyAAAAAAAAAAA": "empty file",
            "README.txt": "not a log file"}


def test_every_bad_file_is_a_named_problem_and_not_counted_as_read(tmp_path: Path) -> None:
    expected = bad_files(tmp_path)
    write_all(tmp_path, files_of(story()))
    store = LocalLogs(tmp_path)
    listing = store.list_files(None, FIRST_DAY, LAST_DAY)
    result = scan(store, listing.files, [KEY], workers=1)
    found = {Path(problem.location).name: problem.reason
             for problem in (*listing.problems, *result.problems)}
    for tag, reason in expected.items():
        [actual] = [text for name, text in found.items() if tag in name]
        assert actual.startswith(reason), (tag, actual)
    assert result.files_read == len(listing.files) - (len(expected) - 1)
    assert sorted(ids(result)) == sorted(MATCHES_OF_KEY)


def test_a_multi_member_gzip_and_a_decompressed_copy_are_read(tmp_path: Path) -> None:
    records = story()
    folder = tmp_path / DAY
    folder.mkdir(parents=True)
    stem = f"{ACCOUNT}_CloudTrail_us-east-1_20261201T2205Z_"
    half = len(records) // 2
    body = json.dumps({"Records": records[:half]}).encode()
    (folder / f"{stem}membersAAAAAAAAA.json.gz").write_bytes(
        gzip.compress(body[:100]) + gzip.compress(body[100:]))
    (folder / f"{stem}plainAAAAAAAAAAA.json").write_bytes(
        json.dumps({"Records": records[half:]}).encode())
    store = LocalLogs(tmp_path)
    listing = store.list_files(None, FIRST_DAY, FIRST_DAY)
    result = scan(store, listing.files, [KEY], workers=1)
    assert result.problems == ()
    assert result.files_read == 2
    assert result.records_scanned == len(records)
    assert sorted(ids(result)) == sorted(MATCHES_OF_KEY)


@pytest.mark.parametrize("below", ["", "AWSLogs", "bucket-copy/trail/logs"])
def test_a_local_copy_is_found_from_its_root(tmp_path: Path, below: str) -> None:
    copy = tmp_path / "bucket-copy" / "trail" / "logs"
    write_all(copy, files_of(story(), org=True))
    root = copy / "AWSLogs" if below == "AWSLogs" else (tmp_path / below if below else tmp_path)
    store = LocalLogs(root)
    assert store.location == str(root)
    listing = store.list_files(None, FIRST_DAY, LAST_DAY)
    assert listing.accounts == {ACCOUNT, MEMBER}
    assert all((root / file.location).is_file() for file in listing.files)
    result = scan(store, listing.files, [KEY], workers=1)
    assert sorted(ids(result)) == sorted(MATCHES_OF_KEY)


def test_a_folder_without_awslogs_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "a" / "b" / "c" / "d" / "AWSLogs").mkdir(parents=True)  # too deep
    with pytest.raises(LogSourceError, match="no AWSLogs folder"):
        LocalLogs(tmp_path).list_files(None, FIRST_DAY, LAST_DAY)


def test_symlink_loops_do_not_hang_and_are_problems(tmp_path: Path) -> None:
    write_all(tmp_path, files_of(story()))
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "12" / "02"
     ).rename(tmp_path / "moved")
    (tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "12" / "02"
     ).symlink_to("02")
    (tmp_path / DAY / f"{ACCOUNT}_CloudTrail_us-east-1_20261201T2300Z_loopAAAAAAAAAAAA.json.gz"
     ).symlink_to(f"{ACCOUNT}_CloudTrail_us-east-1_20261201T2300Z_loopAAAAAAAAAAAA.json.gz")
    store = LocalLogs(tmp_path)
    listing = store.list_files(None, FIRST_DAY, LAST_DAY)
    result = scan(store, listing.files, [KEY], workers=1)
    problems = [*listing.problems, *result.problems]
    assert any(p.location.endswith("us-east-1/2026/12/02") and p.reason.startswith("unreadable")
               for p in problems)
    assert any("loopAAAA" in p.location and p.reason.startswith("unreadable") for p in problems)
    assert "e-whoami" in ids(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_an_unreadable_file_or_folder_is_a_problem(tmp_path: Path) -> None:
    write_all(tmp_path, files_of(story()))
    day = tmp_path / DAY
    next(day.iterdir()).chmod(0)
    (tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail" / "eu-west-1").chmod(0)
    store = LocalLogs(tmp_path)
    listing = store.list_files(None, FIRST_DAY, LAST_DAY)
    result = scan(store, listing.files, [KEY], workers=1)
    reasons = {p.reason for p in (*listing.problems, *result.problems)}
    assert reasons == {"unreadable: permission denied"}


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_one_worker_and_two_workers_give_the_same_result(tmp_path: Path, s3: Any,
                                                         kind: str) -> None:
    records = story()
    write_all(tmp_path, files_of(records))
    bad_files(tmp_path)
    put_all(s3, files_of(records, prefix="p"))
    store = LocalLogs(tmp_path) if kind == "local" else S3Logs(s3, BUCKET, "p")
    files = store.list_files(None, FIRST_DAY, LAST_DAY).files
    seen: list[tuple[int, int]] = []
    one = scan(store, files, [KEY, SESSION_KEY], workers=1)
    two = scan(store, files, [KEY, SESSION_KEY], workers=2,
               progress=lambda done, total: seen.append((done, total)))
    assert one == two
    assert len(one.records) == len(MATCHES_OF_KEY) + 1
    assert seen[-1] == (len(files), len(files))
    assert [done for done, _ in seen] == list(range(1, len(files) + 1))


def test_records_after_keeps_later_and_undated_files() -> None:
    def file(delivered: datetime | None) -> LogFile:
        return LogFile("k", ACCOUNT, "us-east-1", FIRST_DAY, delivered, 1)

    minted = START + timedelta(minutes=10)
    early, edge, late, undated = (file(START), file(minted - timedelta(minutes=5)),
                                  file(minted + timedelta(minutes=5)), file(None))
    assert records_after([early, edge, late, undated], minted) == (edge, late, undated)


@pytest.mark.parametrize("piece_size", [1, 7, 13, 14, 15, 20, 64, 4096, 1 << 20])
def test_records_and_keys_are_found_across_the_pieces_a_file_is_searched_in(
        piece_size: int) -> None:
    records = story() * 40
    body = gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode())
    matching, count, problem = examine(body, True, (SESSION_KEY.encode(),),
                                       piece_size=piece_size)
    assert (count, problem) == (len(records), "")
    assert [record["eventID"] for record in matching] == ["e-mint", "e-session-use"] * 40
    assert examine(body, True, (b"AKIAIOSFODNN7NOWHERE",), piece_size=piece_size) == (
        [], len(records), "")


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_an_interrupted_scan_leaves_no_worker_behind(tmp_path: Path, s3: Any,
                                                     kind: str) -> None:
    import multiprocessing

    write_all(tmp_path, files_of(story()))
    put_all(s3, files_of(story()))
    store = LocalLogs(tmp_path) if kind == "local" else S3Logs(s3, BUCKET)
    files = store.list_files(None, FIRST_DAY, LAST_DAY).files

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan(store, files, [KEY], workers=2, progress=interrupt)
    assert multiprocessing.active_children() == []


def test_a_missing_bucket_is_a_source_error(aws: Any) -> None:
    with pytest.raises(LogSourceError, match="s3://no-such-trail-bucket/AWSLogs/: NoSuchBucket"):
        S3Logs(aws.client("s3"), "no-such-trail-bucket").list_files(None, FIRST_DAY, LAST_DAY)


def test_an_empty_bucket_lists_nothing_and_no_problem(s3: Any) -> None:
    listing = S3Logs(s3, BUCKET).list_files(None, FIRST_DAY, LAST_DAY)
    assert listing == type(listing)(files=(), problems=(), accounts=frozenset(), regions={})


def test_json_nested_past_the_parsers_depth_is_a_named_problem() -> None:
    import gzip

    from incident.investigate.logfiles.examine import examine

    body = b'{"Records": [' + b"[" * 200_000 + b'"AKIAQDEMOLEAKEDKEY01"' + b"]" * 200_000 + b"]}"
    assert examine(gzip.compress(body), True, (b"AKIAQDEMOLEAKEDKEY01",)) == (
        [], 0, "invalid JSON")
