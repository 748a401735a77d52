"""The shared flock-with-holder: a second taker is refused and told who holds it, a
reader sees the holder only while the lock is held, and a release frees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.locks import HolderLock, LockBusy


def test_a_held_lock_refuses_a_second_taker_and_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "job.lock"
    first = HolderLock(path)
    assert first.holder() is None  # no file yet
    with first.held("drill 42, pid 7"):
        assert HolderLock(path).holder() == "drill 42, pid 7"
        with pytest.raises(LockBusy) as caught:
            HolderLock(path).acquire("someone else")
        assert caught.value.holder == "drill 42, pid 7"
    assert HolderLock(path).holder() is None
    with HolderLock(path).held("the next one"):  # released: free to take again
        pass


def test_the_lock_file_keeps_the_mode_it_was_created_with(tmp_path: Path) -> None:
    path = tmp_path / "user.lock"
    with HolderLock(path, mode=0o600).held("me"):
        pass
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == ""  # the holder's text goes with the lock
