"""What the playbook is built from, read from the history store and the config files:
the newest account snapshot (taken by a complete audit), that audit's run, the drills
and the team's notes. No AWS call."""

from __future__ import annotations

from datetime import datetime, timedelta

from auditor.config import Config
from auditor.errors import ConfigError
from auditor.snapshot import fact_digests
from auditor.store import HistoryStore, PlaybookRecord
from incident.playbook.build import Sources

FRESH_FOR = timedelta(days=7)  # an older snapshot is refreshed by an audit first


def newest_snapshot_time(store: HistoryStore, account_id: str | None) -> datetime | None:
    """When the newest snapshot of the account (of any, without one) was taken."""
    run = store.latest_run(account_id, complete=True)
    if run is None:
        return None
    latest = store.latest_snapshot(run.account_id)
    return None if latest is None else latest[1].taken_at


def is_fresh(store: HistoryStore, account_id: str | None, now: datetime) -> bool:
    taken = newest_snapshot_time(store, account_id)
    return taken is not None and now - taken <= FRESH_FOR


def read_notes(config: Config) -> str:
    """The [playbook] notes file, verbatim; "" when none is named."""
    if not config.playbook.notes:
        return ""
    path = config.resolve(config.playbook.notes)
    where = f"{config.source}: " if config.source else ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{where}playbook.notes: cannot read {path}: {reason}") from None


def stored_sources(store: HistoryStore, config: Config, account_id: str | None
                   ) -> Sources | None:
    """The sources of the account's (or the newest audited account's) playbook; None
    when no complete audit has stored a snapshot of it."""
    run = store.latest_run(account_id, complete=True)
    if run is None:
        return None
    latest = store.latest_snapshot(run.account_id)
    if latest is None:
        return None
    run_id, snapshot = latest
    return Sources(snapshot=snapshot, run=store.load_run(run_id), config=config,
                   drills=tuple(store.drills(account_id=snapshot.account_id)),
                   detections=tuple(store.detect_drills(account_id=snapshot.account_id)),
                   notes=read_notes(config),
                   containments=tuple(store.containments(account_id=snapshot.account_id)))


def record_playbook(store: HistoryStore, sources: Sources, at: datetime) -> None:
    """Keep that a playbook was written (or verified) from `sources`: what the check
    playbook.current and the compliance report's playbook line read."""
    assert sources.run.run_id is not None  # a stored run
    keys = sources.snapshot.active_keys
    owned = {entry.user for entry in sources.config.inventory}
    store.record_playbook(PlaybookRecord(
        sources.snapshot.account_id, at, sources.run.run_id, fact_digests(sources.snapshot),
        keys_covered=None if keys is None else sum(1 for k in keys if k.user in owned),
        keys_total=None if keys is None else len(keys)))
