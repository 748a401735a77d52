"""Ctrl-C during `irready audit --org`: no further account starts, the accounts audited
so far keep their runs, and the organization run is stored and shown all the same, the
others marked not audited; exit 130 with one line saying what was kept.

In process, the interrupt is raised where the audit of one member begins (its
AssumeRole), from a botocore hook on every session, as the organization fixture injects
its faults: the worker's KeyboardInterrupt reaches the main thread as Ctrl-C does. The
last test sends a real SIGINT to the command in its own process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clikit import irready, user_env
from gatedkit import WAIT_SECONDS, GatedMotoServer, gated
from orgkit import MANAGEMENT, Organization

from auditor.errors import ExitCode
from auditor.store import HistoryStore

NOT_AUDITED = "not audited: the run was interrupted (Ctrl-C)"


def interrupt_at(account: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3.session

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["interrupt_role"] = params.get("RoleArn", "")

    def ctrl_c(context: dict[str, Any], **_: Any) -> None:
        if f"::{account}:" in context.get("interrupt_role", ""):
            raise KeyboardInterrupt

    before = boto3.session.Session.__init__

    def with_interrupt(self: Any, *args: Any, **kwargs: Any) -> None:
        before(self, *args, **kwargs)
        self.events.register("before-parameter-build.sts.AssumeRole", remember)
        self.events.register("before-call.sts.AssumeRole", ctrl_c)

    monkeypatch.setattr(boto3.session.Session, "__init__", with_interrupt)


def test_ctrl_c_stores_what_was_audited_and_marks_the_rest(
        organization: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # accounts are audited in the order of their ids: the last member is cut off
    target = max(organization.workload, organization.nested)
    interrupt_at(target, monkeypatch)
    report = tmp_path / "org.json"

    result = irready("audit", "--org", "--regions", "us-east-1", "--check", "cloudtrail",
                     "--parallel", "1", "--format", "json", "--output", str(report))

    assert result.exit_code == ExitCode.INTERRUPTED == 130
    document = json.loads(report.read_text())
    states = {item["account_id"]: (item["state"], item.get("reason")) for item in
              document["accounts"]}
    left = [account for account, (_, reason) in states.items() if reason == NOT_AUDITED]
    audited = [account for account, (state, _) in states.items() if state == "AUDITED"]
    assert len(states) == 6
    assert states[target] == ("ERROR", NOT_AUDITED)
    before = {MANAGEMENT, organization.workload, organization.nested} - {target}
    assert {account for account in before if account < target} <= set(audited)
    # the others ran before the interrupt: the fixture's role faults say so as usual
    assert all(state == "SKIPPED" or "could not assume" in reason for account, (state, reason)
               in states.items() if account not in left and account not in audited)
    assert document["complete"] is False
    assert f"interrupted (Ctrl-C): {len(left)} of 6 accounts were not audited" in (
        document["notes"])
    assert result.stderr.splitlines()[-1] == (
        f"irready: error: interrupted: {len(left)} of 6 accounts were not audited; "
        "organization run 1 was stored with them marked not audited "
        "(`irready report audit --org --run 1`)")

    with HistoryStore(tmp_path / "xdg-data" / "irready" / "history.sqlite3") as store:
        stored = store.load_org_run(1)
        assert {item.account_id: item.state.value for item in stored.accounts} == {
            account: state for account, (state, _) in states.items()}
        # every account audited before the interrupt kept its own run
        assert {item.account_id for item in stored.accounts if item.run is not None} == set(
            audited)

    again = irready("report", "audit", "--org", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["complete"] is False


def test_ctrl_c_without_history_says_nothing_more_was_stored(
        organization: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    interrupt_at(organization.nested, monkeypatch)

    result = irready("audit", "--org", "--regions", "us-east-1", "--check", "cloudtrail",
                     "--parallel", "1", "--format", "json", "--no-history")

    assert result.exit_code == 130
    document = json.loads(result.stdout)
    assert document["complete"] is False
    assert result.stderr.splitlines()[-1].endswith(
        "accounts were not audited; nothing more was stored (--no-history)")


MANAGEMENT_KEY = "AKIAIOSFODNN7EXAMPLE"  # user_env's: a member's calls are signed otherwise


def _signed_by_a_member(environ: dict[str, Any]) -> bool:
    return f"Credential={MANAGEMENT_KEY}/" not in environ.get("HTTP_AUTHORIZATION", "")


@pytest.fixture
def member_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedMotoServer]:
    yield from gated(monkeypatch, _signed_by_a_member)


def test_a_real_ctrl_c_lets_the_running_account_end_and_stores_the_run(
        tmp_path: Path, member_gate: GatedMotoServer) -> None:
    """SIGINT to `python -m auditor audit --org` while the first member's first call is
    held: that account's audit ends once released (its run stored), no other starts."""
    import boto3

    env = {**user_env(tmp_path), "AWS_ENDPOINT_URL": member_gate.endpoint}
    organizations = boto3.client(
        "organizations", region_name="us-east-1", endpoint_url=member_gate.endpoint,
        aws_access_key_id=MANAGEMENT_KEY, aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    organizations.create_organization(FeatureSet="ALL")
    members = sorted(organizations.create_account(
        AccountName=f"member-{n}", Email=f"member-{n}@example.com")["CreateAccountStatus"][
        "AccountId"] for n in range(3))
    management = organizations.describe_organization()["Organization"]["MasterAccountId"]

    audit = subprocess.Popen(
        [sys.executable, "-m", "auditor", "audit", "--org", "--regions", "us-east-1",
         "--check", "cloudtrail", "--parallel", "1", "--format", "json"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert member_gate.arrived.wait(WAIT_SECONDS), "no member account was audited"
        audit.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the main thread takes the signal while the member's call waits
    finally:
        member_gate.release.set()
        stdout, stderr = audit.communicate(timeout=WAIT_SECONDS)

    assert audit.returncode == 130, stderr
    states = {item["account_id"]: (item["state"], item.get("reason"))
              for item in json.loads(stdout)["accounts"]}
    held = members[0]  # accounts are audited in the order of their ids
    assert states[held][0] == "AUDITED"
    assert all(states[account] == ("ERROR", NOT_AUDITED) for account in members[1:])
    assert states[management][0] == ("AUDITED" if management < held else "ERROR")
    left = sum(reason == NOT_AUDITED for _, reason in states.values())
    assert stderr.splitlines()[-1] == (
        f"irready: error: interrupted: {left} of 4 accounts were not audited; organization "
        "run 1 was stored with them marked not audited (`irready report audit --org --run 1`)")
    with HistoryStore(tmp_path / "data" / "irready" / "history.sqlite3") as store:
        stored = store.load_org_run(1)
        assert {item.account_id for item in stored.accounts if item.run is not None} == {
            account for account, (state, _) in states.items() if state == "AUDITED"}
