"""How fast `irready investigate` searches a trail's log files, against the floor
(`zcat` of every file to /dev/null) and the usual shell answer (`zcat | jq`).

Generates once (cached in --corpus) a local copy of a busy account's trail: eight
regions, a file per region every 5 minutes over as many days as --size-mb needs, in
CloudTrail's layout and file names. The bodies are real records from the demo's record
builder (varied users, roles, IPs, services, sessions), a few hundred distinct bodies
written under many names; the files that hold the leaked key's events are unique. The
key's story has a few hundred events: it mints a session key (GetSessionToken) and a
long-term key (CreateAccessKey), and that key mints a role session (AssumeRole), so the
search has three passes; a pass that meets a minting searches the later files for the
new key at once, so each later pass reads only the few files that went by before.

Prints: corpus size and file count; the wall time of `zcat` of all files to /dev/null
(one process, through xargs); of `zcat | jq` selecting the records that name the key
(one pass only, so jq is favoured); of irready's whole search (listing and every pass)
with one worker and with every core, each in its own process with its peak RSS (its
own and its workers'), and again with every core over a quarter of the corpus to show
memory is flat in corpus size; then the ratios, of wall times and of CPU times (the
latter hold on a machine that other work shares; the load average is printed).

Goals: one core within 1.5x of zcat; every core faster than zcat; at least 5x faster
than jq; memory flat.

    uv run python bench/investigate_scale.py                     # ~1 GB, in a tmp dir
    uv run python bench/investigate_scale.py --size-mb 200 --corpus /tmp/corpus-200"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ACCOUNT = "123456789012"
LEAKED = "AKIAIOSFODNN7EXAMPLE"
SESSION = "ASIAEXAMPLESESSION01"
CREATED = "AKIAEXAMPLECREATED01"
ROLE_SESSION = "ASIAEXAMPLESESSION02"
ATTACKER_IP = "203.0.113.66"
START = datetime(2026, 11, 1, tzinfo=UTC)
CORPUS_VERSION = 1
# region -> (distinct bodies, fewest records, most records): us-east-1 is the busy one
REGIONS: dict[str, tuple[int, int, int]] = {
    "us-east-1": (60, 500, 900), "us-west-2": (40, 150, 300), "eu-west-1": (40, 150, 300),
    "eu-central-1": (20, 5, 40), "us-east-2": (20, 5, 40), "ap-southeast-1": (20, 5, 40),
    "ap-northeast-1": (20, 5, 30), "sa-east-1": (20, 2, 15),
}
SLOTS_PER_DAY = 288


def _calls() -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("DescribeInstances", "ec2", {"instancesSet": {}, "filterSet": {"items": [
            {"name": "tag:team", "valueSet": {"items": [{"value": "payments"}]}}]}}),
        ("DescribeSecurityGroups", "ec2", {"securityGroupIdSet": {}}),
        ("GetParameter", "ssm", {"name": "/app/db/host", "withDecryption": True}),
        ("GetSecretValue", "secretsmanager", {"secretId": "prod/app/db"}),
        ("Decrypt", "kms", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        ("GenerateDataKey", "kms", {"keySpec": "AES_256",
                                    "keyId": "alias/aws/s3"}),
        ("ListBuckets", "s3", None),
        ("GetBucketAcl", "s3", {"bucketName": "app-assets", "acl": "",
                                "Host": "app-assets.s3.amazonaws.com"}),
        ("CreateLogStream", "logs", {"logGroupName": "/ecs/app", "logStreamName": "ecs/app/1"}),
        ("DescribeLogStreams", "logs", {"logGroupName": "/aws/lambda/worker"}),
        ("ListFunctions", "lambda", {"maxItems": 50}),
        ("DescribeStacks", "cloudformation", {"stackName": "app-prod"}),
        ("GetCallerIdentity", "sts", None),
        ("DescribeDBInstances", "rds", None),
        ("PutMetricAlarm", "monitoring", {"alarmName": "cpu-high", "threshold": 80.0}),
        ("DescribeTable", "dynamodb", {"tableName": "orders"}),
        ("SendMessage", "sqs", {"queueUrl": "https://sqs.us-east-1.amazonaws.com/"
                                            f"{ACCOUNT}/jobs"}),
        ("GetRole", "iam", {"roleName": "app-task-role"}),
        ("ListAttachedRolePolicies", "iam", {"roleName": "app-task-role"}),
        ("DescribeClusters", "ecs", {"clusters": ["prod"]}),
    ]


def _principals(rng: random.Random) -> list[tuple[Any, str]]:
    from demo.cloudtrail_records import assumed_role, iam_user

    people = [(iam_user(f"user-{n:02d}", ACCOUNT), f"AKIABENCH{n:011d}") for n in range(40)]
    roles = [(assumed_role(f"role-{n:02d}", f"session-{rng.randrange(10**6)}", ACCOUNT,
                           START), f"ASIABENCH{rng.randrange(10**11):011d}")
             for n in range(60)]
    return people + roles


def _noise(rng: random.Random, region: str, count: int, principals: list[tuple[Any, str]],
           when: datetime) -> list[dict[str, Any]]:
    from demo.cloudtrail_records import CLI_AGENT, SDK_AGENT, event

    calls = _calls()
    records = []
    for _ in range(count):
        principal, key = rng.choice(principals)
        name, source, request = rng.choice(calls)
        error = (("AccessDenied", f"User: {principal.arn} is not authorized to perform: "
                  f"{source}:{name}") if rng.random() < 0.02 else None)
        records.append(event(
            name, source, when + timedelta(seconds=rng.randrange(300)), principal=principal,
            key=key, region=region, ip=f"10.{rng.randrange(4)}.{rng.randrange(256)}."
            f"{rng.randrange(256)}", agent=rng.choice((SDK_AGENT, CLI_AGENT)),
            request=request, error=error))
    return records


def _story(rng: random.Random, days: int) -> list[dict[str, Any]]:
    """The leaked key's few hundred events, the keys it mints and their events."""
    from demo.cloudtrail_records import (
        CLI_AGENT,
        assumed_role,
        event,
        iam_user,
        session_credentials,
        user_session,
    )

    app = iam_user("app-integration-user", ACCOUNT)
    span = timedelta(days=days) - timedelta(minutes=10)

    def at(share: float) -> datetime:
        return START + span * share

    recon = (("ListUsers", "iam"), ("ListRoles", "iam"), ("ListAccessKeys", "iam"),
             ("GetCallerIdentity", "sts"), ("ListBuckets", "s3"), ("DescribeInstances", "ec2"))

    def calls(principal: Any, key: str, first: float, last: float, count: int,
              regions: tuple[str, ...] = ("us-east-1", "eu-west-1")) -> list[dict[str, Any]]:
        return [event(*rng.choice(recon), at(rng.uniform(first, last)), principal=principal,
                      key=key, region=rng.choice(regions), ip=ATTACKER_IP, agent=CLI_AGENT)
                for _ in range(count)]

    minted, created, assumed = at(0.4), at(0.6), at(0.7)
    records = calls(app, LEAKED, 0.0, 1.0, 200)
    records.append(event("GetSessionToken", "sts", minted, principal=app, key=LEAKED,
                         ip=ATTACKER_IP, response={"credentials": session_credentials(
                             SESSION, minted, timedelta(hours=12))}))
    records += calls(user_session(app, minted), SESSION, 0.4, 0.42, 50)
    records.append(event("CreateAccessKey", "iam", created, principal=app, key=LEAKED,
                         ip=ATTACKER_IP, request={"userName": "app-integration-user"},
                         response={"accessKey": {"accessKeyId": CREATED, "status": "Active",
                                                 "userName": "app-integration-user"}}))
    records += calls(app, CREATED, 0.6, 1.0, 40)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/admin-role"
    records.append(event("AssumeRole", "sts", assumed, principal=app, key=CREATED,
                         ip=ATTACKER_IP, request={"roleArn": role_arn,
                                                  "roleSessionName": "x"},
                         response={"credentials": session_credentials(
                             ROLE_SESSION, assumed, timedelta(hours=1))}))
    records += calls(assumed_role("admin-role", "x", ACCOUNT, assumed), ROLE_SESSION,
                     0.7, 0.705, 20)
    return records


def generate(corpus: Path, size_mb: int) -> None:
    from demo.cloudtrail_files import group_into_files, log_body, log_key

    rng = random.Random(20261201)
    principals = _principals(rng)
    bodies: dict[str, list[tuple[list[dict[str, Any]], bytes]]] = {}
    for region, (distinct, fewest, most) in REGIONS.items():
        bodies[region] = []
        for _ in range(distinct):
            records = _noise(rng, region, rng.randint(fewest, most), principals, START)
            bodies[region].append((records, log_body(records)))
    per_day = SLOTS_PER_DAY * sum(
        sum(len(body) for _, body in found) / len(found) for found in bodies.values())
    days = max(1, round(size_mb * 1e6 / per_day))
    special: dict[tuple[str, datetime], bytes] = {}
    for _account, region, delivered, batch in group_into_files(_story(rng, days)):
        noise, _ = rng.choice(bodies[region])
        special[(region, delivered)] = log_body(noise + batch)
    written = 0
    for day in range(days):
        for region in REGIONS:
            for slot in range(SLOTS_PER_DAY):
                delivered = START + timedelta(days=day, minutes=5 * (slot + 1))
                body = special.pop((region, delivered), None) or rng.choice(bodies[region])[1]
                path = corpus.joinpath(*log_key(ACCOUNT, region, delivered).split("/"))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
                written += 1
    assert not special, "every file of the story has a slot"
    (corpus / "corpus.json").write_text(json.dumps(
        {"version": CORPUS_VERSION, "size_mb": size_mb, "days": days, "files": written}))


def corpus_of(corpus: Path, size_mb: int) -> dict[str, Any]:
    manifest = corpus / "corpus.json"
    if manifest.exists():
        known = json.loads(manifest.read_text())
        if known.get("version") == CORPUS_VERSION and known.get("size_mb") == size_mb:
            return dict(known)
    if corpus.exists() and any(corpus.iterdir()):
        raise SystemExit(f"{corpus} holds something else: give an empty or new --corpus")
    corpus.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    generate(corpus, size_mb)
    print(f"generated in {time.perf_counter() - began:.1f} s", flush=True)
    return dict(json.loads(manifest.read_text()))


def shell(command: str) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True,
                          capture_output=True, text=True)
    return time.perf_counter() - began, done.stdout


def _peak_kib(pid: int | str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines()
                 if line.startswith("VmHWM:")), 0)


class PeakWatcher(threading.Thread):
    """Samples the peak RSS (VmHWM) of this process's descendants (the fork server and
    the workers it forks) every 20 ms: they are not this process's waited children, so
    getrusage cannot see them."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.cpu_ticks: dict[int, int] = {}  # descendant -> its last user+system ticks
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.02):
            parents: dict[int, int] = {}
            ticks: dict[int, int] = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                        parents[int(entry.name)] = int(fields[1])
                        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
                    except (OSError, IndexError, ValueError):
                        continue
            mine = {pid for pid, parent in parents.items() if parent == me}
            mine |= {pid for pid, parent in parents.items() if parent in mine}
            self.peak = max([self.peak, *(_peak_kib(pid) for pid in mine)])
            self.cpu_ticks.update({pid: ticks[pid] for pid in mine})


def search(corpus: Path, workers: int, share: float) -> dict[str, Any]:
    """The whole search as `irready investigate` runs it (its own search over its own
    file source): list, scan for the leaked key, then for the keys each pass minted."""
    from incident.investigate.file_source import FileSource
    from incident.investigate.logfiles import LocalLogs
    from incident.investigate.search import search as irready_search

    watcher = PeakWatcher()
    watcher.start()
    began = time.perf_counter()
    last = START.date() + timedelta(days=int(json.loads(
        (corpus / "corpus.json").read_text())["days"]))
    source = FileSource(LocalLogs(corpus), START.date(), last, workers=workers)
    if share < 1.0:  # a part of the corpus: the first files of the listing
        files = source.store.list_files((ACCOUNT,), START.date(), last).files
        source.listed[ACCOUNT] = files[: int(len(files) * share)]
    passes: dict[str, tuple[int, int]] = {}

    def progress(what: str, _done: int, total: int) -> None:
        keys = what.split(": ", 1)[1]
        passes[keys] = (len(keys.split(", ")), total)

    found = irready_search([source], LEAKED, ACCOUNT, datetime.combine(START.date(), dt_time(),
                                                                    UTC),
                           datetime.combine(last, dt_time(), UTC), progress=progress)
    seconds = time.perf_counter() - began
    watcher.stop.set()
    watcher.join()
    return {"seconds": seconds, "events": len({r["eventID"] for r in found.records}),
            "passes": list(passes.values()), "files_read": source.files_read,
            "records": source.records_scanned, "credentials": len(found.credentials),
            "rss_self": _peak_kib("self"), "rss_workers": watcher.peak,
            "cpu": sum(os.times()[:2]) + sum(watcher.cpu_ticks.values())
            / os.sysconf("SC_CLK_TCK")}


def measured(corpus: Path, workers: int, share: float = 1.0) -> dict[str, Any]:
    """`search` in a process of its own, so its peak RSS is its own."""
    command = [sys.executable, __file__, "--corpus", str(corpus), "--child",
               f"{workers},{share}"]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        workers, share = args.child.split(",")
        print(json.dumps(search(args.corpus, int(workers), float(share))))
        return
    corpus = args.corpus or Path(tempfile.gettempdir()) / f"irready-corpus-{args.size_mb}mb"
    manifest = corpus_of(corpus, args.size_mb)
    listing = f"find {corpus}/AWSLogs -name '*.json.gz' -print0"
    size = sum(path.stat().st_size for path in (corpus / "AWSLogs").rglob("*.json.gz"))
    cores = os.cpu_count() or 1
    print(f"corpus {corpus}: {size / 1e6:.0f} MB compressed, {manifest['files']} files, "
          f"{manifest['days']} days x {len(REGIONS)} regions; {cores} cores; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    shell(f"{listing} | xargs -0 cat > /dev/null")  # warm the page cache for everyone
    peak_file = corpus / "zcat-peak-kib"
    zcat, _ = shell(f"{listing} | /usr/bin/time -f '%M %U %S' -o {peak_file} "
                    "xargs -0 zcat > /dev/null")
    zcat_rss, zcat_user, zcat_system = peak_file.read_text().split()[-3:]
    zcat_cpu = float(zcat_user) + float(zcat_system)
    print(f"zcat to /dev/null:        {zcat:7.2f} s  ({size / 1e6 / zcat:.0f} MB/s compressed)"
          f"  cpu {zcat_cpu:.2f} s", flush=True)
    one = measured(corpus, 1)
    every = measured(corpus, cores)
    quarter = measured(corpus, cores, 0.25)
    for label, run in (("irready, 1 worker:       ", one),
                       (f"irready, {cores} workers:      ", every)):
        passes = " + ".join(f"{keys} key(s) x {files} files" for keys, files in run["passes"])
        print(f"{label}{run['seconds']:7.2f} s  cpu {run['cpu']:.2f} s  {run['events']} events, "
              f"{run['records']:,} records; passes: {passes}", flush=True)
    jq_filter = f'.Records[] | select(tostring | contains("{LEAKED}"))'
    jq, lines = shell(f"{listing} | xargs -0 zcat | jq -c '{jq_filter}'")
    print(f"zcat | jq (leaked key):   {jq:7.2f} s  {len(lines.splitlines())} events "
          f"(first pass only)", flush=True)
    print(f"peak RSS MB (VmHWM): zcat {int(zcat_rss) / 1024:.0f}; irready 1 worker "
          f"{one['rss_self'] / 1024:.0f}"
          f"; {cores} workers: main {every['rss_self'] / 1024:.0f}, largest worker "
          f"{every['rss_workers'] / 1024:.0f}; quarter corpus, {cores} workers: main "
          f"{quarter['rss_self'] / 1024:.0f}, largest worker "
          f"{quarter['rss_workers'] / 1024:.0f}")
    print(f"ratios: 1 worker / zcat {one['seconds'] / zcat:.2f}x (goal <= 1.5x); "
          f"{cores} workers / zcat {every['seconds'] / zcat:.2f}x (goal < 1x); "
          f"jq / {cores} workers {jq / every['seconds']:.1f}x, jq / 1 worker "
          f"{jq / one['seconds']:.1f}x (goal >= 5x)")
    print(f"load average now {os.getloadavg()[0]:.1f} (other work slows every figure)")
    print(f"cpu time (immune to other load on the machine): 1 worker / zcat "
          f"{one['cpu'] / zcat_cpu:.2f}x; {cores} workers / zcat {every['cpu'] / zcat_cpu:.2f}x")


if __name__ == "__main__":
    main()
