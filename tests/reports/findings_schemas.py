"""The two finding formats' rules as the tests hold irready's output to them.

OCSF: the vendored part of the OCSF 1.3.0 schema (tests/reports/ocsf/, extracted by
extract_schema.py from github.com/ocsf/ocsf-schema at tag 1.3.0): every required
attribute (a profile's only where metadata.profiles applies it), each attribute's type and
enum, an object's at-least-one constraint, and every `*_id` caption beside its id.

ASFF: botocore's model of BatchImportFindings (the request botocore would send), plus the
limits AWS's API reference (AwsSecurityFinding, Compliance, Recommendation) and the ASFF
guide (required top-level attributes, finding types) state and the model does not."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

OCSF_SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).parent / "ocsf" / "compliance_finding_1.3.0.json").read_text())
INTEGERS = ("integer_t", "long_t", "timestamp_t")
CAPTIONS = (("severity_id", "severity"), ("status_id", "status"),
            ("activity_id", "activity_name"), ("type_id", "type"))
OTHER = "99"  # an enum's Other: the caption is the source's own


def ocsf_errors(record: Any) -> list[str]:
    event = OCSF_SCHEMA["class"]
    profiles = set(record.get("metadata", {}).get("profiles", ())) if isinstance(
        record, dict) else set()
    found = _object_errors(record, event, "$", profiles)
    if isinstance(record, dict) and {"class_uid", "activity_id", "type_uid"} <= set(record):
        expected = record["class_uid"] * 100 + record["activity_id"]
        if record["type_uid"] != expected:
            found.append(f"$.type_uid: {record['type_uid']} != {expected}")
    return found


def _object_errors(value: Any, spec: dict[str, Any], where: str, profiles: set[str]
                   ) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not an object"]
    attributes = spec["attributes"]
    found = [f"{where}: missing {name!r}" for name, attribute in attributes.items()
             if attribute["requirement"] == "required" and name not in value
             and attribute.get("profile") in (None, *profiles)]
    one_of = spec.get("constraints", {}).get("at_least_one")
    if one_of and not any(name in value for name in one_of):
        found.append(f"{where}: needs at least one of {one_of}")
    for name, item in value.items():
        attribute = attributes.get(name)
        if attribute is None:
            found.append(f"{where}: {name!r} is not a vetted attribute of this object")
            continue
        found += _attribute_errors(item, attribute, f"{where}.{name}", profiles)
    for id_name, caption_name in CAPTIONS:
        enum = attributes.get(id_name, {}).get("enum")
        if enum and id_name in value and caption_name in value:
            key = str(value[id_name])
            if key != OTHER and enum.get(key) != value[caption_name]:
                found.append(f"{where}.{caption_name}: {value[caption_name]!r} is not the "
                             f"caption of {id_name} {key} ({enum.get(key)!r})")
    return found


def _attribute_errors(value: Any, attribute: dict[str, Any], where: str, profiles: set[str]
                      ) -> list[str]:
    if attribute["is_array"]:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not an array"]
        items = list(enumerate(value))
    else:
        items = [(None, value)]
    found: list[str] = []
    kind = attribute["type"]
    for index, item in items:
        here = where if index is None else f"{where}[{index}]"
        if kind in INTEGERS:
            if not isinstance(item, int) or isinstance(item, bool):
                found.append(f"{here}: {item!r} is not {kind}")
        elif kind == "string_t":
            if not isinstance(item, str):
                found.append(f"{here}: {item!r} is not {kind}")
        elif kind == "object":
            if not isinstance(item, dict):
                found.append(f"{here}: {item!r} is not an object")
        else:
            found += _object_errors(item, OCSF_SCHEMA["objects"][kind], here, profiles)
        enum = attribute.get("enum")
        if enum is not None and str(item) not in enum:
            found.append(f"{here}: {item!r} not in {sorted(enum, key=int)}")
    return found


# ASFF: what botocore's model does not say
ASFF_REQUIRED = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types",
                 "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources")
TYPE_NAMESPACES = ("Software and Configuration Checks", "TTPs", "Effects",
                   "Unusual Behaviors", "Sensitive Data Identifications")
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
COMPLIANCE_STATUSES = ("PASSED", "WARNING", "FAILED", "NOT_AVAILABLE")
RECORD_STATES = ("ACTIVE", "ARCHIVED")
PRODUCT_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:securityhub:([a-z0-9-]+):(\d{12}):"
                         r"product/(\d{12})/default$")
FINDING_BYTES_MAX = 240 * 1024


def asff_errors(finding: dict[str, Any]) -> list[str]:
    import botocore.session
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    found: list[str] = []
    try:
        validate_parameters({"Findings": [finding]}, shape)
    except ParamValidationError as exc:
        found.append(f"botocore: {exc}")
    found += [f"missing {name}" for name in ASFF_REQUIRED if name not in finding]
    limits = {"Title": 256, "Description": 1024}
    found += [f"{name} longer than {limit}" for name, limit in limits.items()
              if len(finding.get(name, "")) > limit]
    text = finding.get("Remediation", {}).get("Recommendation", {}).get("Text", "")
    if len(text) > 512:
        found.append("Remediation.Recommendation.Text longer than 512")
    arn = PRODUCT_ARN.match(finding.get("ProductArn", ""))
    account = finding.get("AwsAccountId", "")
    if arn is None or arn[3] != account or arn[4] != account:
        found.append(f"ProductArn {finding.get('ProductArn')!r} is not the default product "
                     f"of {account}")
    if not re.fullmatch(r"\d{12}", account):
        found.append(f"AwsAccountId {account!r} is not 12 digits")
    for kind in finding.get("Types", ()):
        parts = kind.split("/")
        if not 1 <= len(parts) <= 3 or parts[0] not in TYPE_NAMESPACES:
            found.append(f"type {kind!r} is not namespace/category/classifier")
    if finding.get("Severity", {}).get("Label") not in SEVERITY_LABELS:
        found.append(f"Severity.Label {finding.get('Severity')!r}")
    compliance = finding.get("Compliance", {})
    if compliance.get("Status") not in COMPLIANCE_STATUSES:
        found.append(f"Compliance.Status {compliance.get('Status')!r}")
    if len(compliance.get("RelatedRequirements", ())) > 32:
        found.append("more than 32 RelatedRequirements")
    if finding.get("RecordState") not in RECORD_STATES:
        found.append(f"RecordState {finding.get('RecordState')!r}")
    fields = finding.get("ProductFields", {})
    if len(fields) > 50 or any(len(k) > 128 or len(v) > 2048 for k, v in fields.items()):
        found.append("ProductFields over 50 pairs, 128-character keys or 2,048-character "
                     "values")
    for name in ("CreatedAt", "UpdatedAt"):
        try:
            datetime.fromisoformat(finding.get(name, "").replace("Z", "+00:00"))
        except ValueError:
            found.append(f"{name} {finding.get(name)!r} is not a timestamp")
    if len(json.dumps(finding).encode()) >= FINDING_BYTES_MAX:
        found.append("finding not under 240 KB")
    return found
