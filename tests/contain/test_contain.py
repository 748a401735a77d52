"""`irready contain` on a moto account: the plan changes nothing; a run leaves the
application on a new working key with the exposed key inactive and kept; a second key is
deactivated first when the investigation says the attacker made it, and refused when
nobody knows; --block-now; undo; the time to safe is stored; the secret is nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from containkit import APP_USER, TARGET, Account, store_investigation_naming

from auditor.clock import utcnow
from auditor.config import Config
from auditor.errors import NotFound, UsageError
from auditor.store import HistoryStore
from incident.contain.model import ActionName, ContainOptions, ContainStatus
from incident.contain.run import plan_containment, run_containment
from incident.contain.undo import undo_containment


def no_sleep(_: float) -> None:
    return None


def options(account: Account, **kwargs: object) -> ContainOptions:
    defaults: dict[str, object] = {"key_id": account.leaked[0], "target": TARGET,
                                   "investigate": False, "propagation_timeout": 1.0}
    return ContainOptions(**{**defaults, **kwargs})  # type: ignore[arg-type]


def assert_secret_nowhere(account: Account, store: HistoryStore, *texts: str) -> None:
    secret = account.leaked[1]
    assert secret not in Path(store.path).read_bytes().decode("latin-1")
    for text in texts:
        assert secret not in text


def test_the_plan_changes_nothing(account: Account, contain_config: Config,
                                  history: HistoryStore) -> None:
    before = (account.key_states(), account.held())
    plan = plan_containment(account.ctx(), contain_config, history, options(account))
    assert (account.key_states(), account.held()) == before
    assert plan.user == APP_USER
    assert [a.name for a in plan.actions] == [ActionName.ROTATE, ActionName.VERIFY_BLOCKED]
    rotate = plan.actions[0]
    assert "iam:CreateAccessKey" in rotate.call
    assert f"reactivates {account.leaked[0]}" in rotate.undo
    assert history.containments() == []


def test_a_run_rotates_before_it_blocks(account: Account, contain_config: Config,
                                        history: HistoryStore) -> None:
    record = run_containment(account.ctx(), contain_config, history, options(account),
                             sleep=no_sleep)
    assert record.status == ContainStatus.SAFE, record.journal
    new_id, new_secret = account.held()
    assert new_id != account.leaked[0]
    assert account.works(new_id, new_secret)
    assert account.key_states() == {new_id: "Active", account.leaked[0]: "Inactive"}
    assert not account.works(*account.leaked)
    assert record.safe_seconds is not None
    assert record.safe_seconds > 0
    verify = record.journal["actions"][-1]
    assert verify["detail"]["refused_by_aws"] is True
    assert_secret_nowhere(account, history)
    history_text = Path(history.path).read_bytes().decode("latin-1")
    assert new_secret not in history_text


def test_a_key_the_attacker_made_is_deactivated_first(account: Account, contain_config: Config,
                                                      history: HistoryStore) -> None:
    backdoor, _ = account.second_key()
    investigation = store_investigation_naming(history, account.leaked[0], backdoor, utcnow())
    plan = plan_containment(account.ctx(), contain_config, history,
                            options(account, investigate=True))
    assert plan.investigation_id == investigation
    assert plan.backdoor_keys == (backdoor,)
    record = run_containment(account.ctx(), contain_config, history,
                             options(account, investigate=True), sleep=no_sleep)
    assert record.status == ContainStatus.SAFE, record.journal
    new_id, new_secret = account.held()
    assert account.works(new_id, new_secret)
    assert account.key_states() == {new_id: "Active", account.leaked[0]: "Inactive"}
    assert record.journal["actions"][0]["detail"]["key_id"] == backdoor


def test_two_keys_of_unknown_origin_are_refused(account: Account, contain_config: Config,
                                                history: HistoryStore) -> None:
    other, _ = account.second_key()
    before = account.key_states()
    with pytest.raises(UsageError) as refused:
        run_containment(account.ctx(), contain_config, history, options(account))
    assert account.leaked[0] in refused.value.message
    assert f"--deactivate-first {other}" in refused.value.message
    assert account.key_states() == before
    record = run_containment(account.ctx(), contain_config, history,
                             options(account, deactivate_first=(other,)), sleep=no_sleep)
    assert record.status == ContainStatus.SAFE
    assert other not in account.key_states()


def test_no_target_and_no_block_now_names_the_inventory_entry(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    with pytest.raises(UsageError) as refused:
        plan_containment(account.ctx(), contain_config, history, options(account, target=""))
    assert "[[inventory]]" in refused.value.message
    assert f'user = "{APP_USER}"' in refused.value.message


def test_block_now_deactivates_without_rotating_and_undo_reactivates(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    record = run_containment(account.ctx(), contain_config, history,
                             options(account, target="", block_now=True), sleep=no_sleep)
    assert record.status == ContainStatus.SAFE
    assert account.key_states() == {account.leaked[0]: "Inactive"}
    assert account.held()[0] == account.leaked[0]  # nothing rotated: the application broke
    assert "stops working" in " ".join(record.journal["plan"]["notes"])
    undone = undo_containment(account.ctx(), contain_config, history, record.containment_id)
    assert undone.status == ContainStatus.UNDONE
    assert account.key_states() == {account.leaked[0]: "Active"}


def test_a_target_that_holds_another_key_is_refused(account: Account, contain_config: Config,
                                                    history: HistoryStore) -> None:
    other, _ = account.second_key()
    with pytest.raises(UsageError) as refused:
        plan_containment(account.ctx(), contain_config, history,
                         options(account, key_id=other, deactivate_first=(account.leaked[0],)))
    assert f"not the exposed key {other}" in refused.value.message


def test_an_unknown_key_is_not_found(account: Account, contain_config: Config,
                                     history: HistoryStore) -> None:
    with pytest.raises(NotFound) as refused:
        plan_containment(account.ctx(), contain_config, history,
                         options(account, key_id="AKIAIOSFODNN7EXAMPLE"))
    assert "root" in refused.value.message


def test_without_a_fresh_investigation_one_is_run_or_said(
        account: Account, contain_config: Config, history: HistoryStore) -> None:
    plan = plan_containment(account.ctx(), contain_config, history,
                            options(account, investigate=True))
    said = " ".join(plan.notes)
    # moto has no event history (LookupEvents), so the investigation cannot run: said,
    # and the containment goes on without it
    assert "no investigation could run" in said, said
    assert [a.name for a in plan.actions] == [ActionName.ROTATE, ActionName.VERIFY_BLOCKED]
