"""Marshmallow schemas and fields shared by core routes and plugins."""

from __future__ import annotations

import decimal

from marshmallow import Schema, fields


class StatusSchema(Schema):
    status = fields.String(required=True)


class FixedDecimal(fields.Decimal):
    """A ``numeric(digits, places)`` value: ``Decimal`` in Python, a string in JSON.

    Input with more fractional digits than ``places`` is refused rather than rounded (a client
    sending 0.005 of a currency unit has a bug worth reporting), and so is input too large for
    the column, so that the database never has to reject it. Output always has ``places``
    decimals ("10.000"), whether the value was just computed or read back from the database.
    """

    default_error_messages = {
        "places": "At most {places} decimal places.",
        "digits": "Must be less than {limit} in absolute value.",
    }

    def __init__(self, digits: int = 14, places: int = 2, **kwargs) -> None:
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)
        self.digits, self.decimal_places = digits, places
        self.limit = decimal.Decimal(10) ** (digits - places)
        self.step = decimal.Decimal(1).scaleb(-places)

    def _validated(self, value) -> decimal.Decimal:
        number = super()._validated(value)
        if abs(number) >= self.limit:
            raise self.make_error("digits", limit=self.limit)
        if number != number.quantize(self.step):
            raise self.make_error("places", places=self.decimal_places)
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None:
            value = decimal.Decimal(value).quantize(self.step)
        return super()._serialize(value, attr, obj, **kwargs)


def money_field(**kwargs) -> FixedDecimal:
    """An amount of money: ``numeric(14, 2)``."""
    return FixedDecimal(14, 2, **kwargs)


def quantity_field(**kwargs) -> FixedDecimal:
    """A quantity of goods: ``numeric(14, 3)``."""
    return FixedDecimal(14, 3, **kwargs)
