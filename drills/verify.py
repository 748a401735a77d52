"""Proof, not hope: does the new key authenticate, is the old one refused, is the
application healthy? IAM is eventually consistent, so a new key may be refused for a
few seconds and a deactivated one accepted: each check is retried with backoff until a
deadline, and the attempts and the time spent waiting are recorded as evidence.

A key is tried with STS GetCallerIdentity, which needs no permission, through a client
of the drill's own boto3 session given the key explicitly: same endpoint, same region,
same retry policy (throttling is retried inside each attempt)."""

from __future__ import annotations

import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drills.model import AccessKey

if TYPE_CHECKING:
    from auditor.session import AwsContext

# what AWS answers to a key it does not (yet, or any more) accept
REJECTED_CODES = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch",
                            "AccessDenied", "AuthFailure", "UnrecognizedClientException",
                            "InvalidAccessKeyId"})
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Waited:
    """The evidence of a retried check."""

    ok: bool
    attempts: int
    seconds: float  # from the first attempt to the last answer
    waited_seconds: float  # spent sleeping between attempts
    last: str  # the last answer: an ARN, an error code, an HTTP status

    @property
    def tries(self) -> str:
        """The attempts in words: "1 attempt", "3 attempts"."""
        return f"{self.attempts} attempt" + ("" if self.attempts == 1 else "s")

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "attempts": self.attempts, "seconds": round(self.seconds, 3),
                "waited_seconds": round(self.waited_seconds, 3), "last": self.last}


def backoff(attempt: int) -> float:
    """0.2, 0.4, 0.8 ... seconds, at most 5: quick when IAM is quick, gentle otherwise."""
    return float(min(5.0, 0.2 * 2 ** (attempt - 1)))


def retry_until(probe: Callable[[], tuple[bool, str]], timeout: float, sleep: Sleep
                ) -> Waited:
    """Call `probe` until it says True or `timeout` seconds passed (at least once)."""
    start = time.monotonic()
    deadline = start + max(0.0, timeout)
    attempts, waited = 0, 0.0
    while True:
        attempts += 1
        ok, last = probe()
        now = time.monotonic()
        if ok or now >= deadline:
            return Waited(ok, attempts, now - start, waited, last)
        pause = min(backoff(attempts), deadline - now)
        sleep(pause)
        waited += pause


def key_client(ctx: AwsContext, key: AccessKey) -> Any:
    """An STS client that signs with `key` and otherwise matches the drill's clients."""
    from botocore.config import Config as BotoConfig

    config = BotoConfig(retries={"mode": "standard", "max_attempts": ctx.max_attempts},
                        connect_timeout=10, read_timeout=30, user_agent_extra="irready-drill")
    session: Any = ctx.session
    return session.client("sts", region_name=ctx.region, endpoint_url=ctx.endpoint_url,
                          aws_access_key_id=key.key_id, aws_secret_access_key=key.secret,
                          config=config)


def _answer(client: Any) -> tuple[str | None, str]:
    """(ARN, "") when the key is accepted, else (None, error code)."""
    from auditor.session import error_code

    try:
        return str(client.get_caller_identity()["Arn"]), ""
    except Exception as exc:  # noqa: BLE001 - every refusal is an answer to record
        return None, error_code(exc)


def wait_accepted(ctx: AwsContext, key: AccessKey, expected_arn: str, timeout: float,
                  sleep: Sleep = time.sleep) -> Waited:
    """Until the key authenticates as `expected_arn`."""
    client = key_client(ctx, key)

    def probe() -> tuple[bool, str]:
        arn, code = _answer(client)
        if arn is None:
            return False, code
        return arn == expected_arn, arn

    return retry_until(probe, timeout, sleep)


def wait_rejected(ctx: AwsContext, key: AccessKey, timeout: float,
                  sleep: Sleep = time.sleep) -> Waited:
    """Until AWS refuses the key. A network error is no proof either way: retried."""
    client = key_client(ctx, key)

    def probe() -> tuple[bool, str]:
        arn, code = _answer(client)
        if arn is not None:
            return False, "accepted"
        return code in REJECTED_CODES, code

    return retry_until(probe, timeout, sleep)


def run_command(command: str, timeout: float) -> tuple[bool, str]:
    """Run a user's restart or health command without a shell: (ok, what happened), worded
    to follow "restart command" or "health command" ("... not found: kubectl")."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return False, f"cannot be parsed: {exc}"
    if not argv:
        return False, "is empty"
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        return False, f"not found: {argv[0]}"
    except subprocess.TimeoutExpired:
        return False, f"did not exit within {timeout:g} s"
    except OSError as exc:
        return False, f"cannot be run: {exc.strerror or exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1][:200]
        return False, f"exited with {done.returncode}" + (f": {last}" if last else "")
    return True, "exit 0"


def probe_url(url: str, timeout: float) -> tuple[bool, str]:
    """One GET: a 2xx answer is healthy."""
    if not url.startswith(("http://", "https://")):
        return False, f"not an http(s) URL: {url}"
    try:
        with urllib.request.urlopen(url, timeout=max(1.0, min(timeout, 10.0))) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"unreachable: {reason}"
    return 200 <= status < 300, f"HTTP {status}"


def wait_healthy(command: str, url: str, timeout: float, command_timeout: float,
                 sleep: Sleep = time.sleep) -> Waited:
    """The health command exits 0 and the URL answers 2xx, retried until `timeout`."""

    def probe() -> tuple[bool, str]:
        if command:
            ok, what = run_command(command, command_timeout)
            if not ok:
                return False, f"health command {what}"
        if url:
            ok, what = probe_url(url, timeout)
            if not ok:
                return False, f"{url}: {what}"
        return True, "healthy"

    return retry_until(probe, timeout, sleep)
