"""What tests of CloudTrail's event history share. moto does not implement LookupEvents,
so its answers are given to real clients of an AwsContext: page by page through
botocore's Stubber (exact requests, in order), or by `FakeEventHistory`, which answers
any LookupEvents from a set of records as the service would (one attribute, a time
range, pages of 50, newest first), for tests that do not care in which order the
search asks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from auditor.session import AwsContext
from incident.investigate.record_fields import event_time, signing_key


def history_event(record: dict[str, Any]) -> dict[str, Any]:
    """One entry of LookupEvents' `Events`: the record as a JSON string, and the few
    fields the service lifts out of it."""
    moment = event_time(record)
    entry: dict[str, Any] = {
        "EventId": str(record.get("eventID") or ""),
        "EventName": str(record.get("eventName") or ""),
        "ReadOnly": str(record.get("readOnly", "false")).lower(),
        "EventSource": str(record.get("eventSource") or ""),
        "CloudTrailEvent": json.dumps(record),
    }
    if moment is not None:
        entry["EventTime"] = moment
    if signing_key(record):
        entry["AccessKeyId"] = signing_key(record)
    return entry


def page(records: Iterable[dict[str, Any]], token: str = "") -> dict[str, Any]:
    """One LookupEvents response; `token`, when given, is its NextToken."""
    response: dict[str, Any] = {"Events": [history_event(record) for record in records]}
    if token:
        response["NextToken"] = token
    return response


def request(key: str, attribute: str, start: datetime, end: datetime,
            token: str = "") -> dict[str, Any]:
    """The exact LookupEvents request the source sends for one page."""
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": attribute, "AttributeValue": key}],
        "StartTime": start, "EndTime": end, "MaxResults": 50}
    if token:
        params["NextToken"] = token
    return params


def stubbed(ctx: AwsContext, regions: Sequence[str]) -> dict[str, Stubber]:
    """An active Stubber on the context's cloudtrail client of each region; the test
    queues responses on them and calls `assert_no_pending_responses` at the end."""
    stubbers = {}
    for region in regions:
        stubber = Stubber(ctx.client("cloudtrail", region))
        stubber.activate()
        stubbers[region] = stubber
    return stubbers


def names_key(record: dict[str, Any], key: str) -> bool:
    """The service's ResourceName match, approximated: the key in the request or response."""
    return key in json.dumps([record.get("requestParameters"), record.get("responseElements")])


@dataclass
class FakeEventHistory:
    """An account's event history: LookupEvents in region R answers the records whose
    awsRegion is R. `denied` regions answer AccessDeniedException, `throttled[region]`
    ThrottlingExceptions before each answer there; `on_call` runs before each answer
    (a test's hook: record a clock, raise KeyboardInterrupt)."""

    records: Sequence[dict[str, Any]]
    page_size: int = 50
    denied: frozenset[str] = frozenset()
    throttled: Mapping[str, int] = field(default_factory=dict)
    on_call: Callable[[str, dict[str, Any]], None] | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _throttles_left: dict[str, int] = field(default_factory=dict)

    def install(self, ctx: AwsContext, regions: Sequence[str]) -> None:
        self._throttles_left = dict(self.throttled)
        for region in regions:
            events = ctx.client("cloudtrail", region).meta.events
            events.register("before-parameter-build.cloudtrail.LookupEvents", _keep_params)
            events.register_first("before-call.cloudtrail.LookupEvents", self._answerer(region))

    def _answerer(self, region: str) -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
        def answer(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            params = context["lookup_params"]
            with self._lock:
                self.calls.append((region, params))
                throttle = self._throttles_left.get(region, 0)
                if throttle:
                    self._throttles_left[region] = throttle - 1
            if self.on_call is not None:
                self.on_call(region, params)
            if region in self.denied:
                return _error(403, "AccessDeniedException", "not authorized: LookupEvents")
            if throttle:
                return _error(400, "ThrottlingException", "Rate exceeded")
            return _http(200), self._answer(region, params)
        return answer

    def _answer(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        attribute = params["LookupAttributes"][0]
        key = attribute["AttributeValue"]
        matches = [
            record for record in self.records
            if record.get("awsRegion") == region
            and (moment := event_time(record)) is not None
            and params["StartTime"] <= moment <= params["EndTime"]
            and (signing_key(record) == key if attribute["AttributeKey"] == "AccessKeyId"
                 else names_key(record, key))]
        matches.sort(key=lambda record: str(record["eventTime"]), reverse=True)
        offset = int(params.get("NextToken") or 0)
        rest = offset + self.page_size
        return page(matches[offset:rest], str(rest) if rest < len(matches) else "")


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["lookup_params"] = dict(params)


def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _http(status), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status}}


def _http(status: int) -> AWSResponse:
    """The HTTP side of an answer that never went over the wire, as Stubber builds it."""
    url: Any = None
    headers: Any = {}
    return AWSResponse(url, status, headers, None)
