"""The search over the trail's files follows a minted credential within the pass that
found its minting: the later files are searched for it at once, and the pass that
follows it reads only the files that went by before. The answer is the same as plain
passes would give; what changes is how many files are decompressed twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from logfilekit import (
    ACCOUNT,
    DECOY,
    FIRST_DAY,
    KEY,
    LAST_DAY,
    SESSION_KEY,
    START,
    files_of,
    write_all,
)

from demo.cloudtrail_records import event, iam_user, session_credentials, user_session
from incident.investigate.file_source import FileSource
from incident.investigate.logfiles import LocalLogs, records_after
from incident.investigate.search import search

CREATED = "AKIAIOSFODNN7CREATED"  # a key the session creates for a backdoor user
MINTED = START + timedelta(minutes=10)  # 22:10: its file is delivered at 22:15


def _records() -> list[dict[str, object]]:
    app = iam_user("app-integration-user", ACCOUNT)
    other = iam_user("ci-user", ACCOUNT)
    session = user_session(app, MINTED)
    records = [
        event("GetCallerIdentity", "sts", START, principal=app, key=KEY, event_id="e-whoami"),
        event("GetSessionToken", "sts", MINTED, principal=app, key=KEY, event_id="e-mint",
              response={"credentials": session_credentials(SESSION_KEY, MINTED,
                                                           timedelta(hours=12))}),
        # same delivery slot as the minting, in a folder read before it (eu-west-1 sorts
        # before us-east-1): searched before the session is known, so read again later
        event("ListBuckets", "s3", MINTED + timedelta(minutes=2), principal=session,
              key=SESSION_KEY, region="eu-west-1", event_id="e-session-early"),
        # later files: searched for the session within the first pass
        event("CreateAccessKey", "iam", START + timedelta(minutes=50), principal=session,
              key=SESSION_KEY, event_id="e-create",
              request={"userName": "backdoor"},
              response={"accessKey": {"accessKeyId": CREATED, "userName": "backdoor",
                                      "status": "Active"}}),
        event("ListUsers", "iam", START + timedelta(minutes=90), principal=iam_user(
            "backdoor", ACCOUNT), key=CREATED, region="eu-west-1", event_id="e-backdoor"),
    ]
    records += [event("DescribeRegions", "ec2", START + timedelta(minutes=minute),
                      principal=other, key=DECOY, region=region,
                      event_id=f"noise-{region}-{minute}")
                for minute in range(0, 120, 5) for region in ("us-east-1", "eu-west-1")]
    return records


def _write(root: Path) -> None:
    write_all(root, files_of(_records()))


def test_a_minted_credential_is_searched_for_in_the_same_pass(tmp_path: Path) -> None:
    _write(tmp_path)
    source = FileSource(LocalLogs(tmp_path), FIRST_DAY, LAST_DAY, workers=1)
    passes: dict[str, int] = {}

    def progress(what: str, _done: int, total: int) -> None:
        passes[what.split(": ", 1)[1]] = total

    found = search([source], KEY, ACCOUNT, START - timedelta(hours=1),
                   START + timedelta(hours=3), progress=progress)

    events = {record["eventID"] for record in found.records}
    assert {"e-whoami", "e-mint", "e-session-early", "e-create", "e-backdoor"} <= events
    assert not any(event_id.startswith("noise") for event_id in events)
    chain = {credential.access_key_id: credential.derived_from
             for credential in found.credentials}
    assert chain == {KEY: "", SESSION_KEY: KEY, CREATED: SESSION_KEY}
    listed = len(source.listed[ACCOUNT])
    assert passes[KEY] == listed
    # a credential's own pass reads only the files of the slots from five minutes
    # before its minting to the file that holds the minting (searched before the
    # minting was met), in both regions: three slots, six files, not every later one
    assert passes[SESSION_KEY] == 6
    assert passes[CREATED] == 6
    later = records_after(source.listed[ACCOUNT], MINTED)
    assert len(later) > 40
    assert source.files_read == listed


def test_the_same_answer_with_every_core(tmp_path: Path) -> None:
    _write(tmp_path)
    window = (START - timedelta(hours=1), START + timedelta(hours=3))
    one = search([FileSource(LocalLogs(tmp_path), FIRST_DAY, LAST_DAY, workers=1)],
                 KEY, ACCOUNT, *window)
    two = search([FileSource(LocalLogs(tmp_path), FIRST_DAY, LAST_DAY, workers=2)],
                 KEY, ACCOUNT, *window)
    assert [r["eventID"] for r in one.records] == [r["eventID"] for r in two.records]
    assert one.credentials == two.credentials
