"""Bad input to `irready drill detect`, as a table: each row is refused with exit 2 and
one `irready: error:` line, without a traceback, before any key exists: the canary has
no key, and no detection drill is recorded. A row's second value is its sequence file's
body, or the audit stored before it (for --source athena)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clikit
import pytest

from auditor.errors import ExitCode
from auditor.models import AuditRun
from auditor.snapshot import AccountSnapshot, AthenaTable
from auditor.store import HistoryStore

ACCOUNT = "123456789012"
CANARY = "canary-user"
DETECT = ("drill", "detect", "--timeout", "1", "--poll", "0.1")


def error(text: str) -> str:
    return f"irready: error: {text}"


@dataclass(frozen=True)
class Audited:
    """A row's stored audit: its snapshot lists these Athena tables (None: unknown)."""

    tables: tuple[AthenaTable, ...] | None

    def store(self, history: Path) -> None:
        now = datetime.now(UTC)
        with HistoryStore(history) as store:
            run_id = store.save_run(AuditRun(ACCOUNT, now, now, ()))
            store.save_snapshot(run_id, AccountSnapshot(ACCOUNT, now, (), (), self.tables,
                                                        ("us-east-1",), None, None, None))


PARTITIONED = AthenaTable("us-east-1", "security_logs", "cloudtrail_logs",
                          "s3://trail-logs/AWSLogs/", ("region", "day"))
UNPARTITIONED = AthenaTable("us-east-1", "default", "cloudtrail_flat",
                            "s3://no-such-bucket/AWSLogs/", ())


def sequence_file(folder: Path, body: Any) -> Path:
    path = folder / "sequence.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return path


CASES = [
    pytest.param([*DETECT], None, error("--user is required (the config lists 0 canaries, "
                                        "not exactly one)"), id="no canary named"),
    pytest.param([*DETECT, "--user", "ci-user"], None,
                 error("ci-user is not a canary: list it in [drill] canaries or tag it "
                       "irready:canary=true"), id="a user that is no canary"),
    pytest.param([*DETECT, "--user", "nobody"], None, error("--user nobody: no such IAM user"),
                 id="a user that does not exist"),
    pytest.param([*DETECT, "--user", "drüll-user"], None,
                 error("--user 'drüll-user' is not an IAM user name "
                       "(1 to 64 of A-Z a-z 0-9 and _+=,.@-)"), id="a non-ASCII user name"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "local:."], None,
                 error("--source local:.: a detection drill watches lookup, s3, "
                       "s3://BUCKET[/PREFIX], athena or guardduty"),
                 id="a source it cannot watch"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "athena"], None,
                 error("--source athena: no audit of account 123456789012 is stored: run "
                       "`irready audit` first"), id="athena with no audit stored"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "athena"], Audited(()),
                 error("--source athena: the latest audit of account 123456789012 found no "
                       "Athena table over the trail's logs: create it (`irready playbook` "
                       "prints the CREATE TABLE), then run `irready audit`"),
                 id="athena with no audited table"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "athena"], Audited(None),
                 error("--source athena: the latest audit of account 123456789012 could not "
                       "list the Athena tables: run `irready audit` again"),
                 id="athena when the audit could not list the tables"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "athena"], Audited((PARTITIONED,)),
                 error("--source athena: Athena is queried once the trail's files show the "
                       "calls, and no trail writes log files to S3: name the bucket with "
                       "--source s3://BUCKET[/PREFIX]"), id="athena without a trail"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "lookup", "--source", "athena"],
                 Audited((UNPARTITIONED,)),
                 error("--source athena: default.cloudtrail_flat has no day partition, so a "
                       "query would scan every log under s3://no-such-bucket/AWSLogs/, whose "
                       "size could not be estimated (listing failed (NoSuchBucket) on "
                       "s3://no-such-bucket): not run; create the partitioned table "
                       "`irready playbook` prints (Athena section)"),
                 id="athena over a table whose scan cannot be sized"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "guardduty"], None,
                 error("--source guardduty is watched beside the logs, never alone: add "
                       "--source lookup or --source s3"), id="guardduty alone"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "ftp://x"], None,
                 error("--source ftp://x: a detection drill watches lookup, s3, "
                       "s3://BUCKET[/PREFIX], athena or guardduty"), id="an unknown source"),
    pytest.param([*DETECT, "--user", CANARY, "--source", "s3"], None,
                 error("--source s3: no trail writes log files to S3; name a bucket with "
                       "--source s3://BUCKET[/PREFIX], or use --source lookup"),
                 id="s3 without a trail"),
    pytest.param(["drill", "detect", "--user", CANARY, "--timeout", "5", "--poll", "10"],
                 None, error("--poll 10 is longer than --timeout 5: the drill would look once"),
                 id="a poll longer than the timeout"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "missing.json"], None,
                 error("--sequence missing.json: cannot be read: No such file or directory"),
                 id="a sequence file that does not exist"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"], "[{",
                 error("--sequence {file}: not JSON: "), id="a sequence that is not JSON"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"], [],
                 error("--sequence {file}: must be a non-empty JSON list of calls"),
                 id="an empty sequence"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"],
                 [{"service": "iam", "operation": "CreateUser",
                   "parameters": {"UserName": "x"}}],
                 error("--sequence {file}: call 1: CreateUser is not a read (Get*, List*, "
                       "Describe*): a detection drill only replays reads"),
                 id="a sequence that writes"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"],
                 [{"service": "nosuch", "operation": "ListThings"}],
                 error("--sequence {file}: call 1: unknown service 'nosuch'"),
                 id="an unknown service"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"],
                 [{"service": "iam", "operation": "ListThings"}],
                 error("--sequence {file}: call 1: iam has no operation 'ListThings'"),
                 id="an unknown operation"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"],
                 [{"service": "iam", "operation": "GetUser", "parameters": {"Name": "x"}}],
                 error("--sequence {file}: call 1: GetUser takes no parameter Name"),
                 id="an unknown parameter"),
    pytest.param([*DETECT, "--user", CANARY, "--sequence", "{file}"],
                 [{"service": "iam", "operation": "GetUser", "parameters": {"UserName": 1}}],
                 error("--sequence {file}: call 1: parameters must map names to text"),
                 id="a parameter that is not text"),
    pytest.param(["drill", "rollback", "detect-20261206-000000-abcdef"], None,
                 error("no drill with id 'detect-20261206-000000-abcdef' in {history}"),
                 id="rollback of an unknown drill"),
]


@pytest.mark.parametrize(("args", "sequence", "expected"), CASES)
def test_bad_input_is_refused_before_any_key(aws: Any, tmp_path: Path, args: list[str],
                                             sequence: Any, expected: str) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName=CANARY, Tags=[{"Key": "irready:canary", "Value": "true"}])
    iam.create_user(UserName="ci-user")
    history = tmp_path / "history.sqlite3"
    if isinstance(sequence, Audited):
        sequence.store(history)
        sequence = None
    file = sequence_file(tmp_path, sequence) if sequence is not None else tmp_path / "none"
    argv = [a.replace("{file}", str(file)) for a in args]
    result = clikit.irready(*argv, "--history", history)
    assert result.exit_code == ExitCode.USAGE, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected.replace("{file}", str(file))
                               .replace("{history}", str(history))), lines[0]
    assert iam.list_access_keys(UserName=CANARY)["AccessKeyMetadata"] == []
    if history.exists():
        with HistoryStore(history) as store:
            assert store.detect_drills() == []
