"""A small JSON Schema (2020-12) checker for the keywords `bot/funnel/schema.json` uses.

`jsonschema` is not a dependency of the project; this covers type, properties, required,
additionalProperties, items, enum, const, pattern, minLength, minItems, minProperties, minimum,
oneOf, anyOf and local `$ref`s, and refuses a schema that uses any other keyword, so the check
cannot silently pass over a rule it does not understand.
"""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = {"$schema", "$defs", "title", "description", "default", "examples"}
CHECKED = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "const",
    "pattern", "minLength", "minItems", "minProperties", "minimum", "oneOf", "anyOf", "$ref",
}  # fmt: skip
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


Schema = dict[str, Any]


def errors(schema: Schema, value: Any, root: Schema | None = None, at: str = "$") -> list[str]:
    """Every way `value` breaks `schema` (empty when it conforms)."""
    root = root if root is not None else schema
    unknown = set(schema) - CHECKED - ANNOTATIONS
    if unknown:
        raise ValueError(f"{at}: the checker does not understand {sorted(unknown)}")
    found: list[str] = []
    if "$ref" in schema:
        found += errors(_resolve(root, schema["$ref"]), value, root, at)
    if "type" in schema and not _is_type(value, schema["type"]):
        return [*found, f"{at}: expected {schema['type']}, got {type(value).__name__}"]
    if "const" in schema and not _same(value, schema["const"]):
        found.append(f"{at}: expected {schema['const']!r}")
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        found.append(f"{at}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        found += _string(schema, value, at)
    if isinstance(value, list):
        found += _array(schema, value, root, at)
    if isinstance(value, dict):
        found += _object(schema, value, root, at)
    if "minimum" in schema and _is_number(value) and value < schema["minimum"]:
        found.append(f"{at}: {value} is below {schema['minimum']}")
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            matches = sum(not errors(option, value, root, at) for option in schema[keyword])
            if matches == 0 or (keyword == "oneOf" and matches > 1):
                found.append(f"{at}: matches {matches} of the {keyword} options")
    return found


def _string(schema: dict[str, Any], value: str, at: str) -> list[str]:
    found = []
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{at}: {value!r} does not match {schema['pattern']}")
    if len(value) < schema.get("minLength", 0):
        found.append(f"{at}: too short")
    return found


def _array(schema: dict[str, Any], value: list[Any], root: dict[str, Any], at: str) -> list[str]:
    found = [f"{at}: too few items"] if len(value) < schema.get("minItems", 0) else []
    if "items" in schema:
        for index, item in enumerate(value):
            found += errors(schema["items"], item, root, f"{at}[{index}]")
    return found


def _object(schema: Schema, value: dict[str, Any], root: Schema, at: str) -> list[str]:
    found = [f"{at}: `{key}` is required" for key in schema.get("required", ()) if key not in value]
    if len(value) < schema.get("minProperties", 0):
        found.append(f"{at}: too few keys")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            found += errors(properties[key], item, root, f"{at}.{key}")
        elif extra is False:
            found.append(f"{at}: `{key}` is not allowed")
        elif isinstance(extra, dict):
            found += errors(extra, item, root, f"{at}.{key}")
    return found


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported: {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return dict(node)


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return _is_number(value)
    return isinstance(value, TYPES[name]) and not (name != "boolean" and isinstance(value, bool))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
