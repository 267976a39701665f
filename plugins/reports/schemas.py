"""Schemas of the reports API: the catalogue entry and the JSON answer of a report."""

from __future__ import annotations

from marshmallow import Schema, fields


class ReportSchema(Schema):
    name = fields.String(required=True, metadata={"description": "GET /api/v1/reports/<name>"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    module = fields.String(required=True, metadata={"description": "The module it belongs to"})
    roles = fields.List(fields.String(), required=True,
                        metadata={"description": "Roles that may run it"})
    parameters = fields.List(fields.Dict(), required=True, metadata={
        "description": "Its query parameters, as OpenAPI parameter objects"})
    columns = fields.List(fields.String(), required=True,
                          metadata={"description": "Row keys; the CSV header, in order"})


class ReportResultSchema(Schema):
    report = fields.String(required=True)
    parameters = fields.Dict(required=True,
                             metadata={"description": "The parameters it ran with, defaults "
                                                      "filled in"})
    columns = fields.List(fields.String(), required=True)
    rows = fields.List(fields.Dict(), required=True, metadata={
        "description": "One object per row keyed by column; decimals are strings"})
