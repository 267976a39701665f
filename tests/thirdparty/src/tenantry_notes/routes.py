"""/api/v1/notes: list and (idempotent) create."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.sdk import Blueprint, SQLPage, db, idempotent
from tenantry_notes.models import Note

blp = Blueprint("notes", __name__, url_prefix="/api/v1/notes", description="Notes")


class NoteSchema(Schema):
    id = fields.UUID(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(load_default="")
    created_at = fields.DateTime(dump_only=True)


@blp.route("")
class Notes(MethodView):
    @blp.response(200, NoteSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles("owner", "admin", "cashier")
    def get(self):
        """List notes."""
        return select(Note).order_by(Note.created_at, Note.id)

    @idempotent
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    @blp.requires_roles("owner", "admin")
    def post(self, data):
        """Create a note."""
        note = Note(**data)
        db.session.add(note)
        db.session.flush()
        return note
