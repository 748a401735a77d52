"""The drill's fault cases, on a containment: throttling, a denial, a dropped connection
and a kill in the middle of a step, then `resume`. Whatever happens, the application
ends holding a working key, and the secret is in no artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
from containkit import TARGET, Account
from drillkit import Faults, SimulatedKill

from auditor.config import Config
from auditor.store import HistoryStore
from incident.contain.lock import is_cut_off
from incident.contain.model import ContainOptions, ContainStatus
from incident.contain.render import record_json, record_text
from incident.contain.run import resume_containment, run_containment


def no_sleep(_: float) -> None:
    return None


def run(account: Account, config: Config, history: HistoryStore, *, attempts: int = 3
        ) -> object:
    return run_containment(account.ctx(attempts), config, history,
                           ContainOptions(account.leaked[0], target=TARGET, investigate=False,
                                          propagation_timeout=1.0), sleep=no_sleep)


def assert_application_works(account: Account, history: HistoryStore) -> None:
    key_id, secret = account.held()
    assert account.key_states().get(key_id) == "Active"
    assert account.works(key_id, secret)
    assert account.leaked[1] not in Path(history.path).read_bytes().decode("latin-1")


@pytest.mark.usefixtures("no_retry_pause")
@pytest.mark.parametrize("operation", [
    "iam.CreateAccessKey", "iam.UpdateAccessKey", "secretsmanager.PutSecretValue"])
def test_throttling_is_retried(account: Account, contain_config: Config, history: HistoryStore,
                               operation: str) -> None:
    faults = Faults(account.operator)
    faults.throttle(operation)
    record = run(account, contain_config, history)
    assert faults.injected == [f"throttle {operation}"]
    assert record.status == ContainStatus.SAFE  # type: ignore[attr-defined]
    assert_application_works(account, history)
    assert account.key_states()[account.leaked[0]] == "Inactive"


def test_a_denied_rotation_rolls_back_and_keeps_the_exposed_key_working(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    faults = Faults(account.operator)
    faults.deny("secretsmanager.PutSecretValue")
    record = run(account, contain_config, history)
    assert record.status == ContainStatus.FAILED  # type: ignore[attr-defined]
    assert "still active" in record.journal["outcome"]  # type: ignore[attr-defined]
    assert account.held()[0] == account.leaked[0]
    assert account.key_states() == {account.leaked[0]: "Active"}
    assert_application_works(account, history)


@pytest.mark.usefixtures("no_retry_pause")
def test_a_dropped_connection_is_retried(account: Account, contain_config: Config,
                                         history: HistoryStore) -> None:
    faults = Faults(account.operator)
    faults.drop_once("iam.UpdateAccessKey")
    record = run(account, contain_config, history)
    assert faults.injected == ["drop iam.UpdateAccessKey"]
    assert record.status == ContainStatus.SAFE  # type: ignore[attr-defined]
    assert_application_works(account, history)


@pytest.mark.parametrize("operation", [
    "iam.CreateAccessKey", "secretsmanager.PutSecretValue", "iam.UpdateAccessKey"])
def test_a_kill_mid_step_is_resumed(account: Account, contain_config: Config,
                                    history: HistoryStore, operation: str) -> None:
    faults = Faults(account.operator)
    faults.kill_after(operation)
    with pytest.raises(SimulatedKill):
        run(account, contain_config, history)
    (cut,) = history.containments()
    assert cut.status == ContainStatus.RUNNING
    assert is_cut_off(history, cut)
    faults.calm = True
    record = resume_containment(account.ctx(), contain_config, history, cut.containment_id,
                                sleep=no_sleep)
    assert record.status == ContainStatus.SAFE, record.journal
    assert_application_works(account, history)
    assert account.held()[0] != account.leaked[0]
    assert account.key_states()[account.leaked[0]] == "Inactive"
    assert len(account.key_states()) == 2
    for text in (record_json(record), record_text(record)):
        assert account.leaked[1] not in text


def test_a_key_aws_still_accepts_after_deactivation_is_said(
        aws: object, tmp_path: Path, contain_config: Config, history: HistoryStore) -> None:
    """Without the fixture that makes moto refuse inactive keys, the drill's check that
    AWS refuses the exposed key fails after the point of no return: the containment is
    safe by IAM's status, and says what the drill saw."""
    from containkit import seed_account
    from moto.core import enable_iam_authentication

    account = seed_account(aws, tmp_path)
    with enable_iam_authentication():
        record = run(account, contain_config, history)
        assert record.status == ContainStatus.SAFE  # type: ignore[attr-defined]
        assert "but the drill reported" in record.journal["outcome"]  # type: ignore[attr-defined]
        verify = record.journal["actions"][-1]  # type: ignore[attr-defined]
        assert verify["detail"]["refused_by_aws"] is False
        assert_application_works(account, history)
