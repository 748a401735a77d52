"""Shared fixtures. Every test runs with fake AWS credentials, no profile, no endpoint
override and private XDG folders, so no test can reach a real account or a user's
files. `aws` starts an in-process moto account; `ctx` is irready's view of it;
`moto_server` is moto over real HTTP on loopback, for irready in its own process.

Tests that render a PDF carry the `pdf` marker: where weasyprint cannot render (no
Pango, no HarfBuzz-Subset) they skip with the reason and the packages to install,
and `.ci/run` fails when any did."""

from __future__ import annotations

import functools
import json
import logging
import signal
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.config import AuditSettings, Config
from auditor.models import AuditRun
from auditor.session import AwsContext
from auditor.store import HistoryStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
TEST_REGIONS = ("us-east-1", "eu-west-1")

SCRUBBED = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A shell starts a background job (`pytest &`) with Ctrl-C ignored, and an ignored
    signal stays ignored in every child: the tests that press Ctrl-C on irready, in
    this process or in a subprocess, need Python's own handler back."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def aws() -> Iterator[Any]:
    """A fresh in-process moto account; yields a boto3 Session bound to it. Its credential
    report is dated when it is read, as IAM's would be (moto's says 2015): a test of a
    stale report dates it itself."""
    import boto3
    from moto import mock_aws

    from auditor.clock import utcnow
    from demo.account import moto_report_dated

    with mock_aws(), moto_report_dated(utcnow):
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def inactive_keys_rejected() -> Iterator[None]:
    """As AWS does, and moto does not: a request signed with an inactive key fails."""
    from demo.drill import moto_refuses_inactive_keys

    with moto_refuses_inactive_keys():
        yield


@pytest.fixture
def ctx(aws: Any) -> AwsContext:
    return AwsContext(session=aws, max_attempts=2)


@pytest.fixture
def config() -> Config:
    """Defaults, narrowed to two regions so that regional reads stay quick."""
    return replace(Config(), audit=AuditSettings(regions=TEST_REGIONS))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "history.sqlite3") as history:
        yield history


@pytest.fixture
def api_calls(aws: Any) -> list[str]:
    """Every API call made through `aws` (one per page), as `service:Operation`."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}:{model.name}")

    aws.events.register("before-call.*.*", record)
    return calls


@pytest.fixture
def run_audit(ctx: AwsContext, config: Config, store: HistoryStore
              ) -> Callable[..., AuditRun]:
    """Run a real audit of the moto account: `run_audit(only=("iam",), config=...)`."""
    from auditor.audit import perform_audit
    from auditor.registry import discover

    def run(only: tuple[str, ...] = (), config: Config = config) -> AuditRun:
        return perform_audit(ctx, config, discover(), only=only, history=store).run

    return run


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on 127.0.0.1 (a free port), empty; AWS_ENDPOINT_URL points this
    process's clients at it, and tests pass the URL on to irready's processes."""
    from moto.server import ThreadedMotoServer

    from auditor.clock import utcnow
    from demo.account import moto_report_dated

    # werkzeug logs one line per request otherwise
    monkeypatch.setattr(logging.getLogger("werkzeug"), "level", logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        with moto_report_dated(utcnow):  # the server runs in this process: dated as `aws`
            yield url
    finally:
        server.stop()  # the next mock_aws() starts from fresh backends


# -- the pdf marker ----------------------------------------------------------------------

PDF_SKIP_PREFIX = "PDF rendering is unavailable on this machine"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pdf: renders a PDF with weasyprint (needs Pango and HarfBuzz-Subset)")


@functools.cache
def pdf_unavailable() -> str | None:
    """Why weasyprint cannot render here, with the packages to install, or None. Without
    HarfBuzz-Subset weasyprint still imports but warns, which fails every PDF test under
    `filterwarnings = error` with a message that names no package."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import weasyprint  # noqa: F401
        except (ImportError, OSError) as exc:
            return (f"{PDF_SKIP_PREFIX}: {exc} (Debian: apt-get install libpango-1.0-0 "
                    "libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)")
    for warning in caught:
        if "HarfBuzz-Subset" in str(warning.message):
            return (f"{PDF_SKIP_PREFIX}: HarfBuzz-Subset is missing "
                    "(Debian: apt-get install libharfbuzz-subset0)")
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("pdf")]
    reason = pdf_unavailable() if marked else None
    for item in marked if reason else ():
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def user_with_policy(aws: Any) -> Callable[[dict[str, Any]], Any]:
    """`user_with_policy(document)`: a new IAM user holding only that policy; returns a
    boto3 Session signed with the user's own key."""
    import boto3

    counter = iter(range(100))

    def make(document: dict[str, Any]) -> Any:
        iam = aws.client("iam")
        name = f"auditor-{next(counter)}"
        iam.create_user(UserName=name)
        arn = iam.create_policy(PolicyName=f"{name}-policy",
                                PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                             aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)

    return make


@pytest.fixture
def enforce_iam(monkeypatch: pytest.MonkeyPatch) -> Callable[[], AbstractContextManager[None]]:
    """`with enforce_iam(): ...`: moto evaluates IAM policies for every request made
    inside (set the account up before entering: its "testing" key is no IAM user's).

    Two gaps of moto's simulation are filled on moto's side, so that the test judges
    the policy as AWS would: moto recomputes the SigV4 signature of GuardDuty's GET
    requests differently from botocore (SignatureDoesNotMatch for any caller), so for
    GuardDuty only the signature comparison is skipped (its IAM authorization still
    runs); and moto's S3 action map lacks `?object-lock`, which it would authorize as
    s3:ListBucket instead of AWS's s3:GetBucketObjectLockConfiguration."""
    from moto.core import enable_iam_authentication
    from moto.iam.access_control import IAMRequest
    from moto.s3.responses import ACTION_MAP

    monkeypatch.setitem(ACTION_MAP["BUCKET"]["GET"], "object-lock",
                        "GetBucketObjectLockConfiguration")

    check_signature = IAMRequest.check_signature

    def signature_unless_guardduty(self: Any) -> None:
        if self._service != "guardduty":
            check_signature(self)

    monkeypatch.setattr(IAMRequest, "check_signature", signature_unless_guardduty)
    return enable_iam_authentication
