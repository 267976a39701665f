"""The planned response dump (core/fast_dump.py) answers what marshmallow's own dump answers,
key order included, for every kind of field and object the API serialises; what it cannot
plan stays marshmallow's; and under FAST_DUMP_CHECK a difference fails loudly. (The test kit
runs with the check on, so every response of the suite is compared as well.)"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from types import SimpleNamespace

import pytest
from flask import Flask
from marshmallow import Schema, fields, post_dump

from core.fast_dump import DumpMismatch, compile_dump
from core.schemas import FixedDecimal, money_field


class LineSchema(Schema):
    sku = fields.String()
    quantity = FixedDecimal(12, 3)


class EverythingSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    label = fields.String(attribute="title")
    code = fields.String(data_key="codeName")
    count = fields.Integer()
    ratio = fields.Float()
    price = money_field()
    exact = fields.Decimal(as_string=True)
    active = fields.Boolean()
    created_at = fields.DateTime()
    day = fields.Date()
    tags = fields.List(fields.String())
    lines = fields.List(fields.Nested(LineSchema))
    parent = fields.Nested(LineSchema, allow_none=True)
    extra = fields.Dict()
    secret = fields.String(load_only=True)
    fallback = fields.String(dump_default="none given")
    computed = fields.Method("shout")
    constant = fields.Constant("always")
    dotted = fields.String(attribute="parent.sku")
    function = fields.Function(lambda obj: f"fn:{getattr(obj, 'name', None)}")

    def shout(self, obj):
        return str(getattr(obj, "name", "")).upper()


def _values(**changes):
    values = {
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "name": "Coffee",
        "title": "A title", "code": "C-1", "count": 3, "ratio": 0.5,
        "price": decimal.Decimal("12.5"), "exact": decimal.Decimal("1.2300"), "active": True,
        "created_at": dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC), "day": dt.date(2026, 12, 4),
        "tags": ["a", "b"], "lines": [SimpleNamespace(sku="X", quantity=decimal.Decimal("2"))],
        "parent": SimpleNamespace(sku="P", quantity=decimal.Decimal("1.5")),
        "extra": {"k": 1}, "secret": "never dumped",
    }
    values.update(changes)
    return values


class Row:
    """An object read through ``obj[key]`` first, as marshmallow's accessor does."""

    def __init__(self, **values):
        self._values = values
        self.name = "attribute, not item"

    def __getitem__(self, key):
        return self._values[key]


OBJECTS = {
    "object": SimpleNamespace(**_values()),
    "dict": _values(),
    "subscriptable with attributes": Row(**_values()),
    "nones": SimpleNamespace(**_values(name=None, price=None, parent=None, created_at=None,
                                       tags=None)),
    "missing attributes": SimpleNamespace(name="only a name"),
    "empty dict": {},
}


@pytest.mark.parametrize("kind", OBJECTS)
def test_the_planned_dump_is_marshmallows(kind):
    obj = OBJECTS[kind]
    expected = EverythingSchema().dump(obj)
    planned = compile_dump(EverythingSchema()).dump(obj)
    assert planned == expected
    assert list(planned) == list(expected)  # the keys in the same order


def test_many_and_none_as_marshmallow():
    objects = list(OBJECTS.values())
    assert compile_dump(EverythingSchema(many=True)).dump(objects) \
        == EverythingSchema(many=True).dump(objects)
    assert compile_dump(EverythingSchema()).dump(objects, many=True) \
        == EverythingSchema().dump(objects, many=True)
    assert compile_dump(EverythingSchema(many=True)).dump(None) \
        == EverythingSchema(many=True).dump(None)
    assert compile_dump(EverythingSchema(only=("name", "price"))).dump(OBJECTS["object"]) \
        == {"name": "Coffee", "price": "12.50"}


def test_a_schema_with_dump_hooks_keeps_marshmallows_dump():
    class Hooked(Schema):
        name = fields.String()

        @post_dump
        def mark(self, data, **_kwargs):
            return {**data, "hooked": True}

    schema = Hooked()
    assert compile_dump(schema).dump(SimpleNamespace(name="x")) == {"name": "x", "hooked": True}
    assert "dump" not in vars(schema)  # not planned


def test_anything_but_a_schema_instance_is_left_alone():
    assert compile_dump(None) is None
    assert compile_dump("ProductSchema") == "ProductSchema"
    assert compile_dump({"type": "object"}) == {"type": "object"}


def test_the_check_fails_when_the_plan_and_marshmallow_differ():
    """A field whose value changes from one read to the next stands for a plan that went
    wrong: with FAST_DUMP_CHECK the difference is an error, without it nobody pays for it."""
    class Ticking(fields.Field):
        calls = 0

        def _serialize(self, value, attr, obj, **kwargs):
            Ticking.calls += 1
            return Ticking.calls

    class TickingSchema(Schema):
        tick = Ticking()

    schema = compile_dump(TickingSchema())
    app = Flask(__name__)
    app.config["FAST_DUMP_CHECK"] = True
    with app.app_context(), pytest.raises(DumpMismatch):
        schema.dump(SimpleNamespace(tick=1))
    app.config["FAST_DUMP_CHECK"] = False
    with app.app_context():
        assert schema.dump(SimpleNamespace(tick=1)) == {"tick": Ticking.calls}


def test_the_check_is_off_unless_asked(tmp_path):
    """Outside the test kit nobody pays for the second dump (a string default once left it
    on: "false" is a true value)."""
    from core.config import load_settings

    settings = load_settings(environ={"TENANTRY_ENV": "development"}, instance_path=tmp_path)
    assert settings["FAST_DUMP_CHECK"] is False
