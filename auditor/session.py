"""AWS access for one run: a boto3 session, its clients per (service, region), and
the error translation that turns "no credentials" or "connection refused" into one line.

boto3 is imported here lazily so that `irready --help` does not pay ~250 ms for it.
Clients use botocore's standard retry mode, so throttling is retried with backoff."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditor.errors import AwsUnavailable, UsageError

if TYPE_CHECKING:
    import boto3

DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials from sts:AssumeRole: kept in memory only, never printed."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


@dataclass(frozen=True)
class Identity:
    account_id: str
    arn: str


class AwsContext:
    """Owns the boto3 session of a run; thread-safe client cache."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
        max_attempts: int | None = None,
        credentials: Credentials | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        import boto3
        import botocore.exceptions

        if session is None:
            try:
                session = boto3.Session(profile_name=profile, region_name=region)
            except botocore.exceptions.ProfileNotFound as exc:
                raise AwsUnavailable(str(exc)) from None
        self.session = session
        self.region = region or session.region_name or DEFAULT_REGION
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.max_attempts = max_attempts or attempts_from_env()
        self._clients: dict[tuple[str, str], Any] = {}
        # contexts that share a session share its lock (see `assumed`)
        self._lock = lock or threading.Lock()
        self._credentials = credentials

    def client(self, service: str, region: str | None = None) -> Any:
        from botocore.config import Config as BotoConfig

        key = (service, region or self.region)
        client = self._clients.get(key)  # a dict read is atomic: no lock once it exists
        if client is not None:
            return client
        with self._lock:  # boto3 sessions are not thread-safe: create one client at a time
            client = self._clients.get(key)
            if client is None:
                config = BotoConfig(
                    retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                    connect_timeout=10,
                    read_timeout=30,
                    max_pool_connections=32,
                    user_agent_extra="irready",
                )
                session: Any = self.session  # service names are not Literal here
                keys = {} if self._credentials is None else {
                    "aws_access_key_id": self._credentials.access_key_id,
                    "aws_secret_access_key": self._credentials.secret_access_key,
                    "aws_session_token": self._credentials.session_token}
                client = session.client(
                    service, region_name=key[1], endpoint_url=self.endpoint_url, config=config,
                    **keys)
                self._clients[key] = client
            return client

    def assumed(self, credentials: Credentials) -> AwsContext:
        """A context with another identity's temporary credentials (a role assumed in a
        member account) on this context's session: its clients share the session's loaded
        service models and client classes, so a thousand accounts do not build them a
        thousand times."""
        share_client_classes()
        return AwsContext(session=self.session, region=self.region,
                          endpoint_url=self.endpoint_url, max_attempts=self.max_attempts,
                          credentials=credentials, lock=self._lock)

    def on_call(self, handler: Callable[..., None]) -> None:
        """Call `handler(model=...)` before every API call made by this context's clients."""
        self.session.events.register("before-call.*.*", handler)

    def identity(self) -> Identity:
        """Who we are; the first call of every run, so it is where unusable setups show."""
        try:
            response = self.client("sts").get_caller_identity()
        except Exception as exc:  # noqa: BLE001 - translated into one line below
            raise AwsUnavailable(describe_unavailable(exc, self.endpoint_url)) from None
        return Identity(account_id=response["Account"], arn=response["Arn"])


@functools.cache
def share_client_classes() -> None:
    """Build each service's client class once per session, not once per client.

    botocore builds a new class, with a method and a docstring per operation, for every
    client it creates: about half of an organization audit's own CPU went there (each
    member account needs its own clients, for its own credentials). The class depends
    only on the session's event handlers and the service's model, so it is kept per
    session (weakly: a session that is gone takes its classes with it) and service
    model. Where botocore is laid out otherwise, nothing is changed."""
    import weakref

    from botocore import client as botocore_client

    creator = getattr(botocore_client, "ClientCreator", None)
    build = getattr(creator, "_create_client_class", None)
    if creator is None or build is None or getattr(build, "irready_shared", False):
        return
    classes: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], type]] = (
        weakref.WeakKeyDictionary())
    lock = threading.Lock()

    def shared(self: Any, service_name: str, service_model: Any) -> type:
        emitter = getattr(self, "_event_emitter", None)
        description = getattr(service_model, "_service_description", None)
        if emitter is None or description is None:
            return build(self, service_name, service_model)  # type: ignore[no-any-return]
        key = (service_name, id(description))
        with lock:
            built = classes.setdefault(emitter, {})
            cls = built.get(key)
            if cls is None:
                cls = built[key] = build(self, service_name, service_model)
        return cls

    shared.irready_shared = True  # type: ignore[attr-defined]
    creator._create_client_class = shared


@functools.cache
def partition_regions() -> frozenset[str]:
    """Every region botocore's partition and endpoint data name, in every partition
    (aws, aws-cn, aws-us-gov, ...): what can be known about region names offline."""
    from botocore.loaders import create_loader

    loader = create_loader()
    names: set[str] = set()
    for data in (loader.load_data("partitions"), loader.load_data("endpoints")):
        for partition in data.get("partitions", ()):
            names.update(partition.get("regions", {}))
    return frozenset(names)


def attempts_from_env() -> int:
    """AWS_MAX_ATTEMPTS, as every AWS SDK reads it (default 5: throttling is retried)."""
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    if not raw:
        return DEFAULT_MAX_ATTEMPTS
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"AWS_MAX_ATTEMPTS must be a positive integer, not {raw!r}")
    return int(raw)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or the exception class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code = str(error.get("Code") or "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("", "403") and status == 403:
            return "AccessDenied"  # JSON-protocol services answer a denial with code "403"
        if code:
            return code
    return type(exc).__name__


def is_access_denied(exc: BaseException) -> bool:
    code = error_code(exc)
    return code in {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "403",
    }


def describe_unavailable(exc: Exception, endpoint_url: str | None) -> str:
    import botocore.exceptions as bexc

    if isinstance(exc, bexc.NoCredentialsError | bexc.PartialCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE or pass --profile, or run "
            "'irready demo' to try irready on a simulated account"
        )
    if isinstance(exc, bexc.EndpointConnectionError | bexc.ConnectionClosedError):
        where = endpoint_url or "AWS"
        return f"cannot reach {where}: {exc}"
    if isinstance(exc, bexc.ProfileNotFound | bexc.NoRegionError):
        return str(exc)
    if isinstance(exc, bexc.ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        if is_access_denied(exc):
            return f"sts:GetCallerIdentity was denied ({code}): {message}".rstrip(": ")
        return f"cannot identify the account ({code}): {message}".rstrip(": ")
    if isinstance(exc, bexc.BotoCoreError):
        return f"cannot identify the account: {exc}"
    return f"cannot identify the account: {type(exc).__name__}: {exc}"
