"""Extract from a checkout of github.com/ocsf/ocsf-schema the part of one class that the
OCSF tests need: its attributes (required ones, and those irready writes) with their
types, requirement and enum, resolved as the OCSF server resolves them (dictionary
entry, then `extends` and `$include`, the class's own definition last; enum values
merged), and the same for each object those attributes hold.

    python tests/reports/ocsf/extract_schema.py SCHEMA_CHECKOUT > compliance_finding_1.3.0.json

The vendored file names the commit it came from; regenerate it from another tag to move
to a newer OCSF version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TAG = "1.3.0"
CLASS = "events/findings/compliance_finding.json"
# what irready writes, per class or object, besides the required attributes
WRITTEN: dict[str, tuple[str, ...]] = {
    "compliance_finding": ("activity_name", "category_name", "class_name", "type_name",
                           "severity", "status", "status_id", "message", "resources",
                           "remediation", "unmapped"),
    "metadata": ("uid", "profiles"),
    "product": ("name", "version"),
    "finding_info": ("desc", "types"),
    "compliance": ("control", "requirements", "status", "status_id", "status_code",
                   "status_detail"),
    "cloud": ("account", "region"),
    "account": ("type", "type_id", "uid"),
    "resource_details": ("uid", "name", "type", "region", "cloud_partition"),
    "remediation": (),
}


def show(root: Path, path: str) -> dict[str, Any]:
    text = subprocess.run(["git", "-C", str(root), "show", f"{TAG}:{path}"], check=True,
                          capture_output=True, text=True).stdout
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def attributes(root: Path, path: str, folder: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """The attributes and constraints of a class or object file, with what it includes and
    (for an object, `folder` given) what it extends; a class's chain is walked by main."""
    spec = show(root, path)
    found: dict[str, Any] = {}
    constraints: dict[str, Any] = {}
    parent = spec.get("extends")
    if folder and parent and parent != "object":
        found, constraints = attributes(root, f"{folder}/{parent}.json", folder)
    own = dict(spec.get("attributes", {}))
    for include in own.pop("$include", ()):
        included = show(root, include)
        extra = included.get("attributes", {})
        if included.get("meta") == "profile":  # required only where the profile applies
            extra = {key: {**value, "profile": included["name"]} for key, value in extra.items()}
        found = merge(found, extra)
    found = merge(found, own)
    return found, spec.get("constraints", constraints)


def resolved(name: str, found: dict[str, Any], constraints: dict[str, Any],
             dictionary: dict[str, Any]) -> dict[str, Any]:
    keep = {key for key, value in found.items() if value.get("requirement") == "required"}
    keep |= set(WRITTEN[name])
    result: dict[str, Any] = {}
    for key in sorted(keep):
        entry = merge(dictionary[key], found.get(key, {}))
        item = {"requirement": entry.get("requirement", "optional"), "type": entry["type"],
                "is_array": bool(entry.get("is_array", False))}
        if "profile" in entry:
            item["profile"] = entry["profile"]
        if "enum" in entry:
            item["enum"] = {value: spec["caption"] for value, spec in
                            sorted(entry["enum"].items(), key=lambda pair: int(pair[0]))}
        result[key] = item
    return {"attributes": result, "constraints": constraints}


def main(root: Path) -> None:
    dictionary = show(root, "dictionary.json")["attributes"]
    spec = show(root, CLASS)
    categories = show(root, "categories.json")["attributes"]
    found, _ = attributes(root, "events/base_event.json")
    found = merge(found, attributes(root, "events/findings/finding.json")[0])
    found = merge(found, attributes(root, CLASS)[0])
    category_uid = categories[spec["category"]]["uid"]
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", f"{TAG}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    category = {str(category_uid): categories[spec["category"]]["caption"]}
    class_uid = category_uid * 1000 + spec["uid"]
    event = resolved(spec["name"], found, {}, dictionary)
    # the base event's own uids (0) give way to the class's, as the OCSF server does it
    event["attributes"]["category_uid"]["enum"] = category
    event["attributes"]["class_uid"]["enum"] = {str(class_uid): spec["caption"]}
    document: dict[str, Any] = {
        "source": {"repository": "https://github.com/ocsf/ocsf-schema", "tag": TAG,
                   "commit": commit, "license": "Apache-2.0 (LICENSE beside this file)"},
        "version": show(root, "version.json")["version"],
        "class": {"name": spec["name"], "caption": spec["caption"],
                  "category_uid": category_uid, "uid": class_uid, **event},
        "objects": {},
    }
    for name in sorted(set(WRITTEN) - {spec["name"]}):
        found, constraints = attributes(root, f"objects/{name}.json", "objects")
        document["objects"][name] = resolved(name, found, constraints, dictionary)
    json.dump(document, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
