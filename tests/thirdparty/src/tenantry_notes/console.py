"""The notes console page: list notes and add one (owners and admins). Shown only to tenants
that enabled the module; the same schema validates the form and the API."""

from flask import url_for
from sqlalchemy import select

from core.sdk import ConsoleBlueprint, db, read_form, redirect_with_notice, render_page
from tenantry_notes.models import Note
from tenantry_notes.routes import NoteSchema

blp = ConsoleBlueprint("notes_console", __name__, url_prefix="/notes")
blp.nav("Notes", "index", roles=("owner", "admin", "cashier"))


@blp.dashboard_tile("Notes")
def notes_tile():
    count = db.session.execute(select(db.func.count()).select_from(Note)).scalar()
    return [("Notes written", str(count))]


def _page(errors=None, status=200):
    notes = db.session.execute(select(Note).order_by(Note.created_at.desc()).limit(100))
    return render_page("notes/index.html", title="Notes", notes=notes.scalars().all(),
                       errors=errors or {}, status=status)


@blp.route("/")
@blp.page(roles=("owner", "admin", "cashier"))
def index():
    return _page()


@blp.route("/", methods=["POST"])
@blp.page(roles=("owner", "admin"))
def create():
    data, errors = read_form(NoteSchema())
    if errors:
        return _page(errors, 422)
    db.session.add(Note(**data))
    db.session.flush()
    return redirect_with_notice(url_for("notes_console.index"), "Note saved.")
