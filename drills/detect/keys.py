"""The canary's temporary key: created, journaled, and always deleted. The deletion
removes every key of the canary that was not there before the drill, so a key whose
creation answer was lost (a timeout, Ctrl-C inside the call) goes too: nobody can hold
its secret. IAM lists a new key a moment late, so the sweep looks again briefly when the
journal says a creation was asked for but no id came back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drills.detect.journal import DetectJournal, KeyState
from drills.engine.aws import AWS_ERRORS, describe_error, error_code
from drills.model import AccessKey
from drills.verify import Sleep


@contextmanager
def temporary_key(iam: Any, user: str, journal: DetectJournal, sleep: Sleep = time.sleep
                  ) -> Iterator[AccessKey]:
    """A new key of `user`, deleted when the block ends however it ends (exceptions and
    Ctrl-C included). A deletion that fails is journaled and re-raised as it is."""
    journal.key(KeyState.CREATING)
    try:
        answer = iam.create_access_key(UserName=user)["AccessKey"]
        key = AccessKey(str(answer["AccessKeyId"]), str(answer["SecretAccessKey"]))
        journal.key(KeyState.CREATED, key.key_id)
        yield key
    finally:
        delete_drill_keys(iam, user, journal, sleep)


def delete_drill_keys(iam: Any, user: str, journal: DetectJournal,
                      sleep: Sleep = time.sleep) -> list[str]:
    """Delete the journaled key and any other key of `user` the drill made; the ids
    deleted. Raises the AWS error when one cannot be deleted (journaled first)."""
    deleted: list[str] = []
    try:
        if journal.key_id:
            _delete(iam, user, journal.key_id, deleted)
        for attempt in range(3 if journal.key_state is KeyState.CREATING else 1):
            listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
            strays = [str(k["AccessKeyId"]) for k in listed
                      if str(k["AccessKeyId"]) not in journal.keys_before]
            for key_id in strays:
                _delete(iam, user, key_id, deleted)
            if strays or attempt == 2 or journal.key_state is not KeyState.CREATING:
                break
            sleep(1.0)  # IAM may not list a key created a moment ago
    except AWS_ERRORS as exc:
        journal.key(journal.key_state, error=f"the temporary key could not be deleted "
                                             f"({describe_error(exc)})")
        raise
    journal.key(KeyState.DELETED)
    return deleted


def _delete(iam: Any, user: str, key_id: str, deleted: list[str]) -> None:
    try:
        iam.delete_access_key(UserName=user, AccessKeyId=key_id)
    except AWS_ERRORS as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return
    deleted.append(key_id)
