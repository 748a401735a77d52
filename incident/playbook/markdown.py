"""The playbook as Markdown: one renderer, deterministic (everything sorted by the
builder, no clock read). Every section above `STATUS_HEADING` is the account's facts;
the status section at the end is the only one with a date."""

from __future__ import annotations

from collections.abc import Sequence

from incident.playbook.model import KEY_PLACEHOLDER, Containment, Logs, Playbook, Status, Who

STATUS_HEADING = "## Status as of"
ROOT_PATH = (
    "If the leaked key is the **root user's**: this is P1. Sign in as root with MFA, "
    "deactivate the key (`Security credentials` > `Access keys`), make sure root's MFA is "
    "on, then follow every step below for the whole account: anything could have been "
    "done with it."
)


def cell(text: str) -> str:
    """A table cell: a pipe or a line break would break the row."""
    return " ".join(text.replace("|", "\\|").split()) or "-"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cell(value) for value in row) + " |" for row in rows), ""]


def _code(text: str, language: str = "") -> list[str]:
    return [f"```{language}", *text.splitlines(), "```", ""]


def _who(who: Who) -> list[str]:
    lines = ["## Who", ""]
    if who.contacts is None:
        lines += ["The latest audit could not read the alternate contacts: check them with "
                  "`aws account get-alternate-contact --alternate-contact-type SECURITY`.", ""]
    elif not who.contacts:
        lines += ["AWS has no alternate contact for this account.", ""]
    else:
        lines += ["The alternate contacts as AWS has them:", ""]
        lines += _table(("type", "name", "email"),
                        [(c.type, c.name, c.email) for c in who.contacts])
    if who.security_missing or who.contacts == ():
        lines += ["> **Warning:** no SECURITY contact: AWS's security mail goes nowhere. "
                  "Set it now: `aws account put-alternate-contact --alternate-contact-type "
                  "SECURITY --name NAME --email-address EMAIL --phone-number PHONE --title "
                  "TITLE`.", ""]
    people = [("Incident lead", who.incident_lead), ("AWS support plan", who.support_plan),
              *(("Vendor holding keys", vendor) for vendor in who.vendors)]
    named = [(role, value) for role, value in people if value]
    if named:
        lines += _table(("role", "who"), named)
    else:
        lines += ["No incident lead, support plan or vendor is named yet ([playbook] "
                  "incident_lead, support_plan, vendors in irready.toml).", ""]
    return lines


def _minute_zero(logs: Logs, root_keys: bool | None) -> list[str]:
    lines = ["## Minute 0: a key has leaked", ""]
    root = {True: "Root has an active access key in this account.",
            False: "Root has no active access key in this account.",
            None: "Whether root has an access key is unknown (the audit could not read it)."}
    lines += [f"1. {ROOT_PATH} {root[root_keys]}",
              "2. Otherwise: **do not delete the key.** Deleting it loses the key id the "
              "investigation searches for; deactivate it only once its application runs on "
              "a new one (containment, below).",
              f"3. Find everything the key did: the key id is the one value to type "
              f"(`{KEY_PLACEHOLDER}` below). `irready investigate {KEY_PLACEHOLDER} "
              "--since 30d` reads the trail's log files, follows the sessions and keys it "
              "minted and lists what to undo; the queries below answer the same questions "
              "by hand.", ""]
    if logs.visible_after:
        lines += [f"{logs.visible_after} A call made in the last minutes may not be in the "
                  "logs yet: search again before concluding that nothing happened.", ""]
    if logs.gaps:
        lines += ["### Where this account is not ready", ""]
        lines += [f"- **Not ready:** {gap}" for gap in logs.gaps] + [""]
    lines += ["### Trails", ""]
    if logs.trails:
        lines += _table(("trail", "home region", "multi-region", "logging", "logs in",
                         "logs expire after"),
                        [(t.name, t.home_region, "yes" if t.multi_region else "no",
                          {True: "yes", False: "no", None: "unknown"}[t.logging],
                          f"s3://{t.bucket}/{t.key_prefix}".rstrip("/") if t.bucket else "-",
                          "never" if t.expires_after_days is None
                          else f"{t.expires_after_days} days") for t in logs.trails])
    else:
        lines += ["No trail is known (see above).", ""]
    lines += ["### Fallback: CloudTrail event history (90 days, management events)", "",
              "One command per enabled region of this account:", ""]
    lines += _code("\n".join(logs.lookup_events) or "# no region known", "sh")
    lines += ["### Athena", ""]
    if not logs.table:
        lines += ["No trail delivers logs to S3, so there is nothing for Athena to query.", ""]
        return lines
    columns = ", ".join(logs.partition_columns) or "none"
    lines += [f"- Table: `{logs.table}` (region {logs.table_region or 'unknown'})",
              f"- Location: `{logs.location}`", f"- Partition columns: {columns}", ""]
    if logs.create_table:
        lines += ["The table does not exist yet: run this first (Athena console, "
                  "query editor):", ""]
        lines += _code(logs.create_table, "sql")
    for number, query in enumerate(logs.queries, start=1):
        lines += [f"#### Query {number}: {query.title}", ""]
        lines += _code(query.sql, "sql")
    return lines


CHECKLIST = (
    ("New users, access keys, roles and policies made in the window", "Query 3"),
    ("Where the key was used from (IP addresses, tools)", "Query 2"),
    ("Sensitive services read (S3, Secrets Manager, SSM, KMS, DynamoDB)", "Query 4"),
    ("Alternate contacts changed", "Query 3 and `aws account get-alternate-contact "
     "--alternate-contact-type SECURITY`"),
    ("Sessions minted with the key, and when they expire", "Query 5"),
    ("What the attacker tried and was denied", "Query 6"),
)


def _investigation() -> list[str]:
    lines = ["## The first 30 minutes and 2 hours: investigate", "",
             "Each question, and the query above that answers it:", ""]
    return lines + [f"- [ ] {question}: {answer}" for question, answer in CHECKLIST] + [""]


def _containment(c: Containment) -> list[str]:
    lines = ["## 2 to 4 hours: contain", "",
             "Rotate every key that may have been exposed, one application after another:",
             ""]
    if c.rows:
        lines += _table(("user", "owner", "application", "rotation target", "last drill",
                         "measured", "command"),
                        [(r.user, r.owner, r.application, r.rotation_target, r.last_drill,
                          r.measured, f"`{r.command}`") for r in c.rows])
    else:
        lines += ["The config's inventory lists no key yet.", ""]
    if c.unknown_users:
        lines += ["Active keys without an inventory entry (unknown: find the owner first):",
                  ""]
        lines += [f"- {user}" for user in c.unknown_users] + [""]
    if c.active_keys is None:
        lines += ["The latest audit could not count the active keys.", ""]
    elif c.per_key == "-":
        lines += [f"{c.active_keys} active keys; no drill has measured a rotation yet: "
                  "run `irready drill rotate` to know whether they fit in the 4-hour window.",
                  ""]
    else:
        verdict = "within" if c.within_window else "**beyond**"
        lines += [f"The arithmetic: {c.active_keys} active keys x {c.per_key} (the last "
                  f"drill's measured rotation) = {c.total}, {verdict} the 4-hour window.", ""]
    if c.never_drilled:
        lines += ["Never drilled: " + ", ".join(c.never_drilled) + ".", ""]
    lines += ["For the exposed key itself: `irready contain plan KEY_ID`, then `irready "
              "contain run KEY_ID` (rotate before block, journaled; `--revoke-sessions` "
              "cuts off what it minted).", ""]
    if c.containments:
        lines += [f"Containments so far: {c.containments}; the latest was safe in "
                  f"{c.time_to_safe} (from its start to the exposed key inactive).", ""]
    return lines


def _status(status: Status) -> list[str]:
    lines = [f"{STATUS_HEADING} {status.as_of.isoformat()}", "",
             f"From audit run {status.audit_run_id} of {status.audit_date.isoformat()}.", "",
             "### Active keys", ""]
    if status.keys:
        lines += _table(("user", "key", "age (days)", "last used"),
                        [(k.user, str(k.slot), "-" if k.age_days is None else str(k.age_days),
                          k.last_used) for k in status.keys])
    else:
        lines += ["None known.", ""]
    lines += ["### Next business day: what the audit found open", ""]
    lines += [f"- {failure}" for failure in status.open_failures] or ["Nothing."]
    return [*lines, ""]


def render_facts(playbook: Playbook) -> str:
    """Everything above the status section."""
    lines = [f"# Incident playbook: AWS account {playbook.account_id}", "",
             "Written by `irready playbook` from the latest audit. Everything above "
             "\"Status as of\" is this account's facts: regenerate it weekly and commit it, "
             "and a diff shows a real change.", ""]
    lines += _who(playbook.who) + _minute_zero(playbook.logs, playbook.root_keys)
    lines += _investigation() + _containment(playbook.containment)
    lines += ["## Next business day", "",
              "Fix what the audit found open (listed in the status section below), then "
              "regenerate this playbook.", ""]
    if playbook.notes:
        lines += ["## Team notes", "", playbook.notes.rstrip("\n"), ""]
    return "\n".join(lines) + "\n"


def render_markdown(playbook: Playbook) -> str:
    return render_facts(playbook) + "\n".join(_status(playbook.status))
