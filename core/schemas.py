"""Marshmallow schemas and fields shared by core routes and plugins."""

from __future__ import annotations

import decimal
import re

from marshmallow import Schema, ValidationError, fields, validate


class StatusSchema(Schema):
    status = fields.String(required=True)


# A name or code as typed by a person: not blank, no leading or trailing spaces.
class NonZero(validate.Validator):
    """A decimal that must not be zero (a signed stock quantity); documented by the field's
    pattern (core.openapi.decimal_pattern), so generators do not send 0."""

    error = "must not be zero"

    def __call__(self, value):
        if value == 0:
            raise ValidationError(self.error)
        return value


NON_ZERO = NonZero()
TRIMMED = validate.Regexp(r"^\S(.*\S)?$", error="must not be blank or start/end with spaces")


# The one text form of a decimal in this API. ASCII only: Python's Decimal() also takes other
# scripts' digits (Arabic-Indic one, U+0661; mathematical one, U+1D7D9), underscores ("1_0"),
# exponents ("1E+999999999999"), "+", spaces and a bare "." -- forms a client never means to
# send and that once reached the database as 1, 1 and 10, or overflowed the decimal context
# (a 500).
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_TEXT = re.compile(DECIMAL_PATTERN)


class FixedDecimal(fields.Decimal):
    """A ``numeric(digits, places)`` value: ``Decimal`` in Python, a string in JSON.

    Input is a string matching :data:`DECIMAL_PATTERN` ("12.50", "-3") or a JSON number
    (12.5). Input with more fractional digits than ``places`` is refused rather than rounded
    (a client sending 0.005 of a currency unit has a bug worth reporting), and so is input too
    large for the column, so that the database never has to reject it. Output always has
    ``places`` decimals ("10.000"), whether the value was just computed or read back from the
    database. OpenAPI: ``type: string, format: decimal`` with the pattern and the bounds
    (core.openapi documents them).
    """

    default_error_messages = {
        "places": "At most {places} decimal places.",
        "digits": "Must be less than {limit} in absolute value.",
        "format": "Not a valid decimal: use ASCII digits with an optional '.' and fraction, "
                  "e.g. \"12.50\" or \"-3\".",
    }

    def __init__(self, digits: int = 14, places: int = 2, **kwargs) -> None:
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)
        self.digits, self.decimal_places = digits, places
        self.limit = decimal.Decimal(10) ** (digits - places)
        self.step = decimal.Decimal(1).scaleb(-places)

    def _validated(self, value) -> decimal.Decimal:
        if isinstance(value, str) and not _DECIMAL_TEXT.match(value):
            raise self.make_error("format")
        if isinstance(value, bool):  # an int to Python, never a number to a client
            raise self.make_error("invalid")
        number = super()._validated(value)
        # copy_abs() and comparisons are exact and context-free: abs() would round to the
        # context and raise Overflow on a huge exponent (a float such as 1e308 gets here).
        if number.copy_abs() >= self.limit:
            raise self.make_error("digits", limit=self.limit)
        if number != number.quantize(self.step):
            raise self.make_error("places", places=self.decimal_places)
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        number = decimal.Decimal(value).quantize(self.step)
        if self.places is not None or self.allow_nan:
            return super()._serialize(number, attr, obj, **kwargs)
        # What marshmallow would answer (Decimal(str(number)) is number; no places, no NaN
        # handling to apply), without its detour: every amount of every page passes here.
        return format(number, "f") if self.as_string else number

    def bounds(self) -> tuple[tuple[decimal.Decimal, bool], tuple[decimal.Decimal, bool]]:
        """``((lowest, inclusive), (highest, inclusive))`` this field accepts: the column's
        range narrowed by any ``Range`` validators. For documentation (core.openapi)."""
        low, low_inclusive = -(self.limit - self.step), True
        high, high_inclusive = self.limit - self.step, True
        for validator in self.validators:
            if not isinstance(validator, validate.Range):
                continue
            if validator.min is not None:
                candidate = decimal.Decimal(validator.min)
                if candidate > low or (candidate == low and not validator.min_inclusive):
                    low, low_inclusive = candidate, validator.min_inclusive
            if validator.max is not None:
                candidate = decimal.Decimal(validator.max)
                if candidate < high or (candidate == high and not validator.max_inclusive):
                    high, high_inclusive = candidate, validator.max_inclusive
        return (low, low_inclusive), (high, high_inclusive)


def money_field(**kwargs) -> FixedDecimal:
    """An amount of money: ``numeric(14, 2)``."""
    return FixedDecimal(14, 2, **kwargs)


def quantity_field(**kwargs) -> FixedDecimal:
    """A quantity of goods: ``numeric(14, 3)``."""
    return FixedDecimal(14, 3, **kwargs)
