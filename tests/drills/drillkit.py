"""Helpers of the drill tests: the seeded account's handles, readers for each kind of
target, the invariants every drill outcome must keep, and fault injection into the
operator's boto3 session."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.session import AwsContext
from auditor.store import DrillRecord
from drills.policy import drill_policy

REGION = "us-east-1"
ACCOUNT = "123456789012"
USER = "drill-user"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/{USER}"
SECRET = "app/drill/aws-credentials"
PARAMETER = "/app/drill/key"


def policy_document(resources: str = "*") -> dict[str, Any]:
    """The shipped drill policy for USER, SECRET and PARAMETER; resources widened for
    moto, which evaluates them as "*"."""
    document = drill_policy([USER], [f"secretsmanager:{SECRET}", f"ssm:{PARAMETER}"])
    if resources == "*":
        for statement in document["Statement"]:
            statement["Resource"] = "*"
    return document


_SHARED: dict[str, Any] = {}


def session(key_id: str, secret: str) -> Any:
    """A boto3 Session for a key. Sessions share botocore's model loader, whose files a
    new session would otherwise read again (most of a test's time)."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    if "data_loader" not in _SHARED:
        _SHARED["data_loader"] = core.get_component("data_loader")
    core.register_component("data_loader", _SHARED["data_loader"])
    return boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                         region_name=REGION, botocore_session=core)


class SimulatedKill(BaseException):
    """Stands for kill -9: nothing in the drill catches it, nothing is journaled after it."""


@dataclass
class World:
    admin: Any  # boto3.Session with every right
    operator: Any  # boto3.Session with the drill policy's actions only
    tmp: Path
    original: tuple[str, str]  # the drill user's key before any drill
    operator_key: tuple[str, str]
    notes: dict[str, Any] = field(default_factory=dict)

    def ctx(self, max_attempts: int = 3) -> AwsContext:
        return AwsContext(session=self.operator, max_attempts=max_attempts)

    def user_keys(self, user: str = USER) -> dict[str, str]:
        listed = self.admin.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
        return {k["AccessKeyId"]: k["Status"] for k in listed}

    def secret(self, secret_id: str = SECRET) -> dict[str, str]:
        value = self.admin.client("secretsmanager").get_secret_value(SecretId=secret_id)
        document: dict[str, str] = json.loads(value["SecretString"])
        return document

    def authenticates_as(self, key_id: str, secret: str) -> str | None:
        try:
            return str(session(key_id, secret).client("sts").get_caller_identity()["Arn"])
        except Exception:  # noqa: BLE001 - a refusal is the answer
            return None


Reader = Callable[[], tuple[str, str]]


def read_secret(world: World, secret_id: str = SECRET) -> Reader:
    def read() -> tuple[str, str]:
        document = world.secret(secret_id)
        return document["AccessKeyId"], document["SecretAccessKey"]

    return read


def assert_safe(world: World, record: DrillRecord | None, read_target: Reader,
                settled: bool = True) -> None:
    """After any outcome: the target holds an active key of the user that authenticates
    and the user has at most two keys. Once settled (no resume or rollback pending),
    every key the drill created is the one in use, or was recorded and removed."""
    key_id, secret = read_target()
    keys = world.user_keys()
    assert keys.get(key_id) == "Active", (key_id, keys)
    assert world.authenticates_as(key_id, secret) == USER_ARN
    assert len(keys) <= 2, keys
    if not settled or record is None:
        return
    before = set(record.detail["keys_before"])
    for created in set(keys) - before:
        assert created == key_id, f"{created} was left behind by drill {record.drill_id}"
    if key_id not in before:
        assert record.detail.get("new_key_id") == key_id


# -- fault injection ---------------------------------------------------------------------


def _error_response(request: Any, status: int, code: str, message: str) -> Any:
    """An AWS error answer, in the protocol of the service the request went to."""
    from botocore.awsrequest import AWSResponse

    if "json" in str(request.headers.get("Content-Type", b"")):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error></ErrorResponse>").encode()
        headers = {"Content-Type": "text/xml"}

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield body

    request.url = "https://fault.invalid/"  # or moto's own handler still runs the call
    return AWSResponse(request.url, status, headers, Raw())


class Faults:
    """Registers faults on a boto3 session's events, per `service.Operation`."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.network_down = False
        self.calm = False  # True: every fault is off
        self.injected: list[str] = []
        # first: moto's own before-send handler would otherwise do the call anyway
        session.events.register_first("before-send", self._network)

    def _network(self, request: Any, **_: Any) -> None:
        if self.network_down:
            import botocore.exceptions

            self.injected.append("drop")
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)

    def throttle(self, operation: str, times: int = 1) -> None:
        left = {"n": times}

        def handler(request: Any, **_: Any) -> Any:
            if left["n"] <= 0:
                return None
            left["n"] -= 1
            self.injected.append(f"throttle {operation}")
            return _error_response(request, 400, "Throttling", "Rate exceeded")

        self.session.events.register(f"before-send.{operation}", handler)

    def deny(self, operation: str) -> None:
        def handler(request: Any, **_: Any) -> Any:
            if self.calm:
                return None
            self.injected.append(f"deny {operation}")
            return _error_response(request, 403, "AccessDenied",
                                   f"not authorized to perform {operation}")

        self.session.events.register(f"before-send.{operation}", handler)

    def drop_once(self, operation: str) -> None:
        """One attempt of `operation` loses its connection before reaching AWS."""
        left = {"n": 1}

        def handler(request: Any, **_: Any) -> None:
            import botocore.exceptions

            if left["n"] > 0:
                left["n"] -= 1
                self.injected.append(f"drop {operation}")
                raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)

        self.session.events.register(f"before-send.{operation}", handler)

    def lose_response(self, operation: str) -> None:
        """The call reaches AWS and is done there, but its answer never comes back."""
        def handler(**_: Any) -> None:
            import botocore.exceptions

            if self.calm:
                return
            self.injected.append(f"lost {operation}")
            raise botocore.exceptions.ConnectionClosedError(endpoint_url="https://aws.invalid")

        self.session.events.register(f"after-call.{operation}", handler)

    def kill_after(self, operation: str) -> None:
        """The process dies right after AWS did the call, before the drill saw it."""
        def handler(**_: Any) -> None:
            if not self.calm:
                raise SimulatedKill(operation)

        self.session.events.register(f"after-call.{operation}", handler)


# -- a target of each kind, holding the drill user's original key --------------------------

# A `command:` target: a key store in a JSON file. It logs each request's action, its
# argv and whether the secret reached its environment (it must not).
STORE_SCRIPT = '''
import json, os, sys, pathlib
state = pathlib.Path(sys.argv[1])
request = json.load(sys.stdin)
data = json.loads(state.read_text())
secret = request.get("SecretAccessKey")
data.setdefault("log", []).append({
    "action": request["action"], "argv": sys.argv,
    "secret_in_env": bool(secret) and any(secret in v for v in os.environ.values())})
if request["action"] == "read":
    print(json.dumps(data["current"]))
elif request["action"] == "write":
    data["previous"] = data["current"]
    data["current"] = {"AccessKeyId": request["AccessKeyId"], "SecretAccessKey": secret}
elif request["action"] == "restore":
    if secret:
        data["current"] = {"AccessKeyId": request["AccessKeyId"], "SecretAccessKey": secret}
    elif data.get("previous", {}).get("AccessKeyId") == request["AccessKeyId"]:
        data["current"] = data["previous"]
    else:
        sys.exit("no previous value to restore")
state.write_text(json.dumps(data))
'''
TARGET_KINDS = ("secretsmanager", "ssm", "credentials-file", "env-file", "command")


def make_target(world: World, kind: str) -> tuple[str, Reader]:
    """A target of `kind` holding the user's original key, and a reader that does not
    go through the code under test."""
    import configparser
    import sys

    key_id, secret = world.original
    if kind == "secretsmanager":
        return f"secretsmanager:{SECRET}", read_secret(world)
    if kind == "ssm":
        ssm = world.admin.client("ssm")
        ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=json.dumps(
            {"AccessKeyId": key_id, "SecretAccessKey": secret}))

        def read_parameter() -> tuple[str, str]:
            value = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"]
            document = json.loads(value)
            return document["AccessKeyId"], document["SecretAccessKey"]

        return f"ssm:{PARAMETER}", read_parameter
    if kind == "credentials-file":
        path = world.tmp / "credentials"
        path.write_text(f"# hand-written\n[default]\naws_access_key_id = AKIAOTHER\n"
                        f"aws_secret_access_key = other\n\n[app]\n"
                        f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
        path.chmod(0o600)

        def read_credentials() -> tuple[str, str]:
            parser = configparser.ConfigParser()
            parser.read(path)
            return parser["app"]["aws_access_key_id"], parser["app"]["aws_secret_access_key"]

        return f"credentials-file:{path}#app", read_credentials
    if kind == "env-file":
        path = world.tmp / "app.env"
        path.write_text(f"APP_MODE=production\nAWS_ACCESS_KEY_ID={key_id}\n"
                        f"AWS_SECRET_ACCESS_KEY={secret}\n")

        def read_env() -> tuple[str, str]:
            pairs = dict(line.split("=", 1) for line in path.read_text().splitlines() if line)
            return pairs["AWS_ACCESS_KEY_ID"], pairs["AWS_SECRET_ACCESS_KEY"]

        return f"env-file:{path}", read_env
    if kind == "command":
        script = world.tmp / "store.py"
        script.write_text(STORE_SCRIPT)
        state = world.tmp / "state.json"
        state.write_text(json.dumps({"current": {"AccessKeyId": key_id,
                                                 "SecretAccessKey": secret}}))

        def read_state() -> tuple[str, str]:
            current = json.loads(state.read_text())["current"]
            return current["AccessKeyId"], current["SecretAccessKey"]

        return f"command:{sys.executable} {script} {state}", read_state
    raise AssertionError(kind)


def seed(admin: Any) -> dict[str, str]:
    """Admin, operator (drill policy only), the drill user and its secret."""
    iam = admin.client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="drill",
                        PolicyDocument=json.dumps(policy_document()))
    iam.create_user(UserName=USER, Tags=[{"Key": "irready:drill", "Value": "true"}])
    keys = {}
    for name in ("admin", "operator", USER):
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[f"{name}_id"], keys[f"{name}_secret"] = key["AccessKeyId"], key["SecretAccessKey"]
    admin.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=json.dumps({"AccessKeyId": keys[f"{USER}_id"],
                                              "SecretAccessKey": keys[f"{USER}_secret"],
                                              "region": REGION}))
    return keys
