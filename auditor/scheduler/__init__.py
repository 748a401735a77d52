"""The scheduler: the weekly audit, the quarterly drill and the compliance report, run at
their times as the same `irready` commands cron would run, so that nothing runs twice,
nothing is silently missed, and failures reach a person.

The `schedule` package only wakes the service up. Every decision to run is taken here,
from the history store: a job is *due* when its latest slot (Monday 06:00, the first
Monday of the quarter at 07:00, ...) has no completed run. That one rule gives catch-up
after downtime, the retry of a failed job at its next slot, the quarterly drill
(`schedule` has no month unit, so it is a daily tick that asks whether this quarter's
slot is done) and agreement between the service and cron jobs, which call
`irready schedule job JOB --if-due`. Slots before the day the schedule first ran (its
epoch) are never "missed". File locks (flock, released by the kernel when a process
dies) keep two schedulers, or a scheduler and a cron job, from running a job at once.

Jobs run as subprocesses (`python -m auditor ...`): a crashing job cannot take the
service down, and the service and cron behave identically. The runner is injectable,
as are the clock and the sleeper, so six months of service run in a test in seconds.

One module per room: `vocabulary` (the job kinds, triggers, statuses and the record of
a run, shared with the store), `plan` (the [schedule] settings and each run's command
lines), `lock`, `log` (the record of runs), `jobs` (what a run produced), `runner` (the
subprocesses), `executor` (one job, locked, recorded, notified), `service` (the
long-running loop), `status`, and the command line (`cli`, `units`). This file imports
nothing, so that the store can use the vocabulary and `irready --help` stays fast."""
