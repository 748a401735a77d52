"""The history store's schema: one SQL script per version, applied in order on open
(PRAGMA user_version counts how many have run). A script is never edited once it has
shipped; a change is a new script at the end."""

from __future__ import annotations

# 5: a finding's waiver as two typed columns, the reason and its last day, instead of
# the text "reason (until DATE)" (and, for an expired one, a note in the message) that
# reports parsed back. Old rows are converted in place (an expired waiver's reason was
# never kept: it stays empty); the text column stays (an SQLite older than 3.35 cannot
# drop a column) but is no longer read or written.
WAIVER_COLUMNS = """
    ALTER TABLE findings ADD COLUMN waiver_reason TEXT;
    ALTER TABLE findings ADD COLUMN waiver_expires TEXT;
    UPDATE findings
       SET waiver_reason = substr(waiver, 1, length(waiver) - 19),
           waiver_expires = substr(waiver, -11, 10)
     WHERE waiver GLOB '* (until [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])';
    UPDATE findings
       SET waiver_reason = '',
           waiver_expires = substr(message, instr(message, '(waiver expired on ') + 19, 10)
     WHERE waiver IS NULL
       AND message GLOB '*(waiver expired on [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])*';
    """

MIGRATIONS: tuple[str, ...] = (
    # 1: audits and drills
    """
    CREATE TABLE audit_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        score REAL NOT NULL,
        regions TEXT NOT NULL,
        version TEXT NOT NULL,
        caller_arn TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_runs_account ON audit_runs (account_id, started_at);
    CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        check_id TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        severity INTEGER NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        resource TEXT NOT NULL,
        message TEXT NOT NULL,
        remediation TEXT NOT NULL,
        refs TEXT NOT NULL,
        evidence TEXT NOT NULL,
        waiver TEXT
    );
    CREATE INDEX findings_run ON findings (run_id);
    CREATE TABLE drills (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        rotation_seconds REAL,
        target_seconds REAL NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX drills_account ON drills (account_id, started_at);
    CREATE TABLE drill_steps (
        drill_id TEXT NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (drill_id, seq)
    );
    """,
    # 2: the scheduler's runs (one row per job run, written when it starts and when it
    # ends) and its small key/value state (the epoch: when the schedule first applied)
    """
    CREATE TABLE schedule_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        slot TEXT,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        exit_code INTEGER,
        summary TEXT NOT NULL DEFAULT '',
        report TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        notified TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX schedule_runs_job ON schedule_runs (job, started_at);
    CREATE TABLE schedule_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: which checks an audit ran, and whether that was the whole catalogue: a partial
    # run (--check, --skip, audit.checks) must not move the readiness trend nor count
    # as the weekly audit. Older runs keep complete = 1 (nothing recorded otherwise);
    # their checks are the ones with findings, since every selected check yields one.
    # The JSON list is built by hand (check ids are [a-z0-9._], nothing to escape) so
    # that an SQLite built without JSON functions still opens the store.
    """
    ALTER TABLE audit_runs ADD COLUMN checks TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE audit_runs ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
    UPDATE audit_runs SET checks = '[' || COALESCE((
        SELECT group_concat('"' || check_id || '"', ', ') FROM (
            SELECT DISTINCT check_id FROM findings WHERE run_id = audit_runs.id
            ORDER BY check_id)), '') || ']';
    CREATE INDEX audit_runs_complete ON audit_runs (complete, started_at);
    """,
    # 4: what each complete audit learned about the account (trails, retention, Athena,
    # regions, contacts, GuardDuty, active keys), as the JSON of auditor/snapshot.py,
    # for the incident kit to read instead of asking AWS again
    """
    CREATE TABLE account_snapshots (
        run_id INTEGER PRIMARY KEY REFERENCES audit_runs (id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        taken_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX account_snapshots_account ON account_snapshots (account_id, taken_at);
    """,
    # 5: the waiver as two typed columns (see WAIVER_COLUMNS)
    WAIVER_COLUMNS,
    # 6: each playbook `irready playbook` wrote (or verified), with a digest per part of
    # the snapshot it was built from, so that the check playbook.current can say whether
    # it still describes the account and which part changed; and how many of the active
    # keys its containment covers (an inventory entry: an owner and a command)
    """
    CREATE TABLE playbooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        digests TEXT NOT NULL,
        keys_covered INTEGER,
        keys_total INTEGER
    );
    CREATE INDEX playbooks_account ON playbooks (account_id, generated_at);
    """,
    # 7: each investigation `irready investigate` ran: the key, the window, the verdict's
    # figures for listings, and the whole result as its JSON document (schema
    # irready.investigation/1), from which a stored investigation is rendered again. A
    # key id is no secret; a secret access key is never in the document.
    """
    CREATE TABLE investigations (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        window_from TEXT NOT NULL,
        window_to TEXT NOT NULL,
        complete INTEGER NOT NULL,
        suspicious INTEGER NOT NULL,
        follow_ups INTEGER NOT NULL,
        document TEXT NOT NULL
    );
    CREATE INDEX investigations_key ON investigations (key_id, started_at);
    """,
    # each containment `irready contain run` carried out: the exposed key, its user, the
    # status, the time to safe (start to the exposed key inactive and, when asked,
    # sessions revoked) and its journal as JSON (the plan and every action before and
    # after it ran). Key ids only: a secret access key is never stored.
    """
    CREATE TABLE containments (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        key_id TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        safe_seconds REAL,
        detail TEXT NOT NULL
    );
    CREATE INDEX containments_key ON containments (key_id, started_at);
    """,
    # each detection drill (`irready drill detect`): its journal (the temporary key's id
    # from before it was created until it was deleted, so a cut-off drill can delete it)
    # and, once it ends, its whole result as the JSON document (irready.detect-drill/1)
    # and the figure the drill.detect_recent check reads: seconds until every replayed
    # call was visible in event history or the trail's files (NULL: one never was).
    # A key id is no secret; the temporary key's secret is never written anywhere.
    """
    CREATE TABLE detect_drills (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        seen_seconds REAL,
        journal TEXT NOT NULL DEFAULT '{}',
        document TEXT
    );
    CREATE INDEX detect_drills_account ON detect_drills (account_id, started_at);
    """,
    # an organization audit (`irready audit --org`): each account's run is an ordinary
    # audit run; the organization run groups them, with the accounts that could not be
    # audited (their reason) and those skipped (suspended)
    """
    CREATE TABLE org_runs (
        id INTEGER PRIMARY KEY,
        management_account TEXT NOT NULL,
        caller_arn TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        scope TEXT NOT NULL,
        notes TEXT NOT NULL
    );
    CREATE TABLE org_run_accounts (
        org_run_id INTEGER NOT NULL REFERENCES org_runs(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        via TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id INTEGER REFERENCES audit_runs(id) ON DELETE SET NULL,
        PRIMARY KEY (org_run_id, account_id)
    );
    CREATE INDEX org_run_accounts_run ON org_run_accounts (run_id);
    """,
)
