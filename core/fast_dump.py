"""Responses dumped without marshmallow's per-field machinery, to the same bytes.

A list of 20 products took ~0.3 ms of marshmallow per request, most of it not the fields' own
formatting but the way there: for each of 240 values ``Field.serialize`` → ``Field.get_value``
→ the schema's accessor → ``utils.get_value`` → ``_get_value_for_key``. ``compile_dump`` plans
that walk once per schema instance and installs a ``dump`` on the instance that reads each
attribute directly and calls the field's own ``_serialize`` — so every value is still formatted
by marshmallow (and by our fields, such as ``FixedDecimal``); only the walk is ours.

What it does not plan, it leaves to marshmallow exactly as before: a schema with dump hooks or
an overridden ``get_attribute`` keeps its own ``dump``; a field whose ``serialize`` or
``get_value`` is overridden, that reads no attribute (``Method``, ``Function``, ``Constant``),
or whose attribute is a dotted path is serialised by its own ``serialize``; objects with
``__getitem__`` (dicts, rows) are read by marshmallow's own ``get_value``.

It reads marshmallow 4's internals (``Schema._hooks`` by tag, ``dump_fields``,
``Field._CHECK_ATTRIBUTE``, ``utils._get_value_for_key``), which is why pyproject.toml asks for
marshmallow 4.

``FAST_DUMP_CHECK`` (on in the test configuration) makes every planned dump also run
marshmallow's and raise when the two differ: the whole test suite checks the equivalence on
every response it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context
from marshmallow import Schema, fields
from marshmallow.schema import POST_DUMP, PRE_DUMP
from marshmallow.utils import _get_value_for_key, missing

_INSTALLED = "_tenantry_fast_dump"


class DumpMismatch(AssertionError):
    """The planned dump differs from marshmallow's (only raised under FAST_DUMP_CHECK)."""


def _overrides(obj: Any, base: type, name: str) -> bool:
    return getattr(type(obj), name) is not getattr(base, name)


def _plain(field: fields.Field, attr: str) -> bool:
    """Whether the plan may read this field's attribute itself and call its ``_serialize``."""
    return (field._CHECK_ATTRIBUTE and "." not in attr
            and not _overrides(field, fields.Field, "serialize")
            and not _overrides(field, fields.Field, "get_value"))


def _field_step(schema: Schema, name: str, field: fields.Field
                ) -> Callable[[Any, bool], Any]:
    """``(obj, subscriptable) -> value or missing`` for one field, as ``Field.serialize``
    would answer (``subscriptable``: whether ``obj`` has ``__getitem__``)."""
    attr = field.attribute if field.attribute is not None else name
    if not _plain(field, attr):
        accessor = schema.get_attribute
        return lambda obj, _subscriptable: field.serialize(name, obj, accessor=accessor)
    serialize, default = field._serialize, field.dump_default

    def step(obj: Any, subscriptable: bool) -> Any:
        if subscriptable:  # marshmallow's own reading: obj[key], then the attribute
            value = _get_value_for_key(obj, attr, missing)
        else:
            value = getattr(obj, attr, missing)
        if value is missing:
            value = default() if callable(default) else default
            if value is missing:
                return missing
        return serialize(value, name, obj)

    return step


def _plan(schema: Schema) -> Callable[[Any], dict]:
    steps = [(field.data_key if field.data_key is not None else name,
              _field_step(schema, name, field))
             for name, field in schema.dump_fields.items()]
    make = schema.dict_class

    def dump_one(obj: Any) -> dict:
        result = make()
        subscriptable = hasattr(obj, "__getitem__")
        for key, step in steps:
            value = step(obj, subscriptable)
            if value is not missing:
                result[key] = value
        return result

    return dump_one


def _check_wanted() -> bool:
    return has_app_context() and bool(current_app.config.get("FAST_DUMP_CHECK"))


def compile_dump(schema: Any) -> Any:
    """Give ``schema`` (a Schema instance; anything else is returned as it is) the planned
    ``dump``; returns it. Idempotent."""
    if not isinstance(schema, Schema) or getattr(schema, _INSTALLED, False):
        return schema
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] \
            or _overrides(schema, Schema, "get_attribute") or _overrides(schema, Schema, "dump"):
        return schema
    dump_one = _plan(schema)
    original = schema.dump

    def dump(obj: Any, *, many: bool | None = None):
        many = schema.many if many is None else bool(many)
        result = [dump_one(item) for item in obj] if many and obj is not None \
            else dump_one(obj)
        if _check_wanted():
            expected = original(obj, many=many)
            if result != expected or _key_order(result) != _key_order(expected):
                raise DumpMismatch(f"{type(schema).__name__}: planned dump {result!r} "
                                   f"differs from marshmallow's {expected!r}")
        return result

    schema.dump = dump
    setattr(schema, _INSTALLED, True)
    return schema


def _key_order(data: Any) -> Any:
    if isinstance(data, dict):
        return [(key, _key_order(value)) for key, value in data.items()]
    if isinstance(data, list):
        return [_key_order(item) for item in data]
    return data
