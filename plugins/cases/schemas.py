"""Case schemas: CaseSchema (create and read), CaseQueryArgsSchema, CaseUpdateSchema."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from plugins.cases.models import CASE_STATUSES

_TITLE = [validate.Length(min=1, max=200),
          validate.Regexp(r"\s*\S", error="must not be blank")]
_DESCRIPTION = validate.Length(max=20_000)
_PATIENT_REF = [validate.Length(min=1, max=100),
                validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
                                error="letters, digits and . _ : / - only")]


class CaseSchema(Schema):
    id = fields.UUID(dump_only=True)
    title = fields.String(required=True, validate=_TITLE)
    description = fields.String(load_default="", validate=_DESCRIPTION)
    status = fields.String(load_default="open", validate=validate.OneOf(CASE_STATUSES))
    patient_ref = fields.String(load_default=None, allow_none=True, validate=_PATIENT_REF,
                                metadata={"description": "The patient's id in the clinic's "
                                                         "own system (no patient data here)"})
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)


class CaseQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    patient_ref = fields.String(validate=validate.Length(min=1, max=100))


class CaseUpdateSchema(Schema):
    class Meta:
        openapi = {"minProperties": 1}  # what not_empty enforces, in the document

    title = fields.String(validate=_TITLE)
    description = fields.String(validate=_DESCRIPTION)
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    patient_ref = fields.String(allow_none=True, validate=_PATIENT_REF)

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one field to change")
