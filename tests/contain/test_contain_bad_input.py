"""Bad input to `irready contain ...`, as a table: each row is refused with its exit code
and one `irready: error:` line, without a traceback, before anything changes: the user's
keys and the application's secret are as they were and no containment is recorded."""

from __future__ import annotations

from collections.abc import Callable

import clikit
import pytest
from containkit import APP_USER, TARGET, Account

from auditor.errors import ExitCode
from auditor.store import HistoryStore

LEAKED = "{leaked}"  # the row's placeholder for the seeded leaked key id
OTHER = "AKIAIOSFODNN7EXAMPLE"
SECRETISH = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
Row = Callable[[], None]


def error(text: str) -> str:
    return f"irready: error: {text}"


CASES = [
    pytest.param(["contain", "plan", "akiaiosfodnn7example"], ExitCode.USAGE,
                 error("'akiaiosfodnn7example' is not an access key id: key ids are upper "
                       "case (AKIAIOSFODNN7EXAMPLE)"), id="a key id in lower case"),
    pytest.param(["contain", "run", SECRETISH], ExitCode.USAGE,
                 error("that looks like a secret access key, not an access key id; it was "
                       "not stored or shown. Give the key id (AKIA... or ASIA..., 20 "
                       "characters), and rotate the secret if it was pasted where others can "
                       "see it"), id="a secret pasted instead of the key id"),
    pytest.param(["contain", "run", "ASIAIOSFODNN7EXAMPLE"], ExitCode.USAGE,
                 error("ASIAIOSFODNN7EXAMPLE is a session key: it cannot be deactivated and "
                       "expires on its own; contain the long-term key that minted it "
                       "(`irready investigate` names it)"), id="a session key"),
    pytest.param(["contain", "run", LEAKED, "--deactivate-first", LEAKED], ExitCode.USAGE,
                 error("--deactivate-first {leaked}: that is the exposed key itself; name the "
                       "user's other key"), id="the exposed key named to deactivate first"),
    pytest.param(["contain", "run", LEAKED, "--block-now", "--target", TARGET],
                 ExitCode.USAGE,
                 error("--block-now and --target: choose one (--block-now deactivates without "
                       "rotating, so there is no target to publish to)"),
                 id="both --block-now and --target"),
    pytest.param(["contain", "run", LEAKED, "--no-investigate"], ExitCode.USAGE,
                 error(f"no rotation target for {APP_USER}: add an [[inventory]] entry with "
                       f'user = "{APP_USER}" and rotation_target = "TYPE:VALUE" to the '
                       "config, or pass --target TYPE:VALUE; --block-now deactivates the key "
                       "without rotating (what uses it breaks)"),
                 id="no target and no --block-now"),
    pytest.param(["contain", "run", LEAKED, "--no-investigate", "--target", "nowhere"],
                 ExitCode.USAGE,
                 error("malformed target 'nowhere': expected TYPE:VALUE, one of "
                       "{forms}"), id="a malformed target"),
    pytest.param(["contain", "run", LEAKED, "--no-investigate", "--target", TARGET,
                  "--restart-command", "no-such-restart-program"], ExitCode.USAGE,
                 error("--restart-command 'no-such-restart-program': no-such-restart-program "
                       "is not found on PATH"), id="a restart command that does not exist"),
    pytest.param(["contain", "run", LEAKED, "--no-investigate", "--target", TARGET,
                  "--deactivate-first", OTHER], ExitCode.USAGE,
                 error(f"--deactivate-first {OTHER}: not a key of {APP_USER} (its keys: "
                       "{leaked})"), id="a key to deactivate first that the user lacks"),
    pytest.param(["contain", "plan", OTHER, "--no-investigate"], ExitCode.USAGE,
                 error("IAM names no user for {other} (IAM names no user for this key: the "
                       "root user's key (IAM does not list those) or a deleted one; the owner "
                       "is read from the logs). If it is a root access key: this is a P1. "
                       "Contact AWS Support now, delete the root user's access keys from the "
                       "console (Security credentials), and audit what root did (`irready "
                       "investigate KEY`); irready does not touch root keys"),
                 id="a key IAM does not know (root, or deleted)"),
    pytest.param(["contain", "run", LEAKED, "--revoke-roles", " , "], ExitCode.USAGE,
                 error("--revoke-roles: name at least one role (ROLE,ROLE,...)"),
                 id="--revoke-roles without a role"),
    pytest.param(["contain", "run", LEAKED, "--revoke-roles", "ops admin"], ExitCode.USAGE,
                 error("--revoke-roles 'ops admin' is not a role name or role ARN"),
                 id="a role name IAM could not hold"),
    pytest.param(["contain", "plan", LEAKED, "--revoke-roles", "AWSReservedSSO_Admin_01"],
                 ExitCode.USAGE,
                 error("--revoke-roles AWSReservedSSO_Admin_01: an IAM Identity Center role, "
                       "which IAM does not let irready change; revoke its sessions in IAM "
                       "Identity Center (in the organization's management account: remove the "
                       "user's assignment or disable the user there)"),
                 id="an IAM Identity Center role"),
    pytest.param(["contain", "release", "20261206-000000-abcdef"], ExitCode.USAGE,
                 error("no containment '20261206-000000-abcdef' in {history}: `irready "
                       "contain list` lists them"), id="release of an unknown containment"),
    pytest.param(["contain", "show", "20261206-000000-abcdef"], ExitCode.USAGE,
                 error("no containment '20261206-000000-abcdef' in {history}: `irready "
                       "contain list` lists them"), id="show of an unknown containment"),
    pytest.param(["contain", "resume", "20261206-000000-abcdef"], ExitCode.USAGE,
                 error("no containment '20261206-000000-abcdef' in {history}: `irready "
                       "contain list` lists them"), id="resume of an unknown containment"),
    pytest.param(["contain", "undo", "20261206-000000-abcdef"], ExitCode.USAGE,
                 error("no containment '20261206-000000-abcdef' in {history}: `irready "
                       "contain list` lists them"), id="undo of an unknown containment"),
]


@pytest.mark.parametrize(("args", "expected_exit", "expected_error"), CASES)
def test_bad_input_is_refused_before_anything_changes(
        account: Account, args: list[str], expected_exit: int, expected_error: str) -> None:
    from drills.targets import TARGET_FORMS

    history = account.tmp / "history.sqlite3"
    config = clikit.write_config(
        account.tmp, f'[history]\npath = "{history}"\n\n[drill]\npropagation_timeout_seconds'
        " = 1\n")
    leaked = account.leaked[0]
    args = [a.replace(LEAKED, leaked) for a in args]
    before = account.key_states(), account.held()
    credentials = account.operator.get_credentials()

    result = clikit.irready(*args, "--config", config,
                            env={"AWS_ACCESS_KEY_ID": credentials.access_key,
                                 "AWS_SECRET_ACCESS_KEY": credentials.secret_key})

    assert result.exit_code == expected_exit, result.output
    assert result.stderr.splitlines() == [expected_error.format(
        leaked=leaked, history=history, other=OTHER, forms=TARGET_FORMS)]
    assert result.stdout == ""
    assert (account.key_states(), account.held()) == before
    if history.exists():
        with HistoryStore(history) as store:
            assert store.containments() == []
