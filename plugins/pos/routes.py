"""``/api/v1/pos``: settings, registers, shifts (cash in/out, X and Z reports), receipts and
refunds.

Owners manage registers and the tenant's cash-register provider; cashiers (and admins, owners)
run shifts and sell. Receipts and refunds accept ``Idempotency-Key`` so an offline till can
retry without selling twice: those views flush, ``@idempotent`` stores the answer in the same
transaction, and the request's one commit (core/pipeline.py) keeps both or neither.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.sdk import IDEMPOTENCY_KEY_HEADER, Blueprint, SQLPage, db, idempotent
from plugins.pos import fiscal, offline, receipts, refunds, registers, shifts
from plugins.pos.schemas import (
    PosBatchResultSchema,
    PosCashMovementSchema,
    PosCloseShiftSchema,
    PosReceiptBatchSchema,
    PosReceiptQueryArgsSchema,
    PosReceiptSchema,
    PosRefundSchema,
    PosRegisterQueryArgsSchema,
    PosRegisterSchema,
    PosRegisterUpdateSchema,
    PosSettingsSchema,
    PosShiftQueryArgsSchema,
    PosShiftReportSchema,
    PosShiftSchema,
)

blp = Blueprint("pos", __name__, url_prefix="/api/v1/pos",
                description="Cash registers, cashier shifts, receipts and refunds")

OWNER = ("owner",)
STAFF = ("owner", "admin", "cashier")



def _settings_view(tenant_id):
    row = fiscal.settings_row(tenant_id)
    return {"cash_register_provider": row.cash_register_provider if row else None,
            "fiscal_mode": row.fiscal_mode if row else fiscal.DEFAULT_MODE,
            "effective_provider": fiscal.provider_name(tenant_id),
            "available_providers": sorted(fiscal.providers())}


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, PosSettingsSchema)
    @blp.requires_roles(*OWNER)
    def get(self):
        """The tenant's cash-register provider (and the one in effect)."""
        return _settings_view(g.tenant.id)

    @blp.arguments(PosSettingsSchema)
    @blp.response(200, PosSettingsSchema)
    @blp.error(422, "Unknown provider")
    @blp.requires_roles(*OWNER)
    def put(self, data):
        """Choose the tenant's cash-register provider (null: the deployment's default) and
        fiscal mode (live, test, off)."""
        fiscal.set_provider(g.tenant.id, data["cash_register_provider"], g.identity.actor,
                            data.get("fiscal_mode"))
        db.session.flush()
        return _settings_view(g.tenant.id)


# --------------------------------------------------------------------------- registers


@blp.route("/registers")
class Registers(MethodView):
    @blp.arguments(PosRegisterQueryArgsSchema, location="query")
    @blp.response(200, PosRegisterSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*STAFF)
    def get(self, args):
        """List cash registers."""
        return registers.list_registers(args)

    @blp.arguments(PosRegisterSchema)
    @blp.response(201, PosRegisterSchema)
    @blp.error(409, "Another register has this code")
    @blp.requires_roles(*OWNER)
    def post(self, data):
        """Create a cash register (owners)."""
        register = registers.create_register(g.tenant.id, data)
        db.session.flush()
        return register


@blp.route("/registers/<uuid:register_id>")
class RegisterById(MethodView):
    @blp.etag
    @blp.response(200, PosRegisterSchema)
    @blp.error(404, "No such register")
    @blp.requires_roles(*STAFF)
    def get(self, register_id):
        """Get a cash register."""
        return registers.get_register(register_id)

    @blp.etag
    @blp.arguments(PosRegisterUpdateSchema)
    @blp.response(200, PosRegisterSchema)
    @blp.error(404, "No such register")
    @blp.error(409, "The code is taken, or deactivating a register with an open shift")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*OWNER)
    def patch(self, changes, register_id):
        """Rename, relocate or deactivate a register (owners; ETag: send If-Match)."""
        register = registers.get_register(register_id, lock="update")
        blp.check_etag(register, PosRegisterSchema)
        registers.update_register(register, changes)
        db.session.flush()
        return register

    @blp.etag
    @blp.response(204)
    @blp.error(404, "No such register")
    @blp.error(409, "The register has shifts: deactivate it instead")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*OWNER)
    def delete(self, register_id):
        """Delete a register that never had a shift (owners)."""
        register = registers.get_register(register_id, lock="update")
        blp.check_etag(register, PosRegisterSchema)
        registers.delete_register(register)
        db.session.flush()


# --------------------------------------------------------------------------- shifts


@blp.route("/registers/<uuid:register_id>/shifts")
class RegisterShifts(MethodView):
    @blp.arguments(PosShiftSchema)
    @blp.response(201, PosShiftSchema)
    @blp.error(404, "No such register")
    @blp.error(409, "The register already has an open shift, or is inactive")
    @blp.requires_roles(*STAFF)
    def post(self, data, register_id):
        """Open a shift on a register with an opening float."""
        shift = shifts.open_shift(g.tenant.id, register_id, data, g.identity.actor)
        db.session.flush()
        return shift


@blp.route("/shifts")
class Shifts(MethodView):
    @blp.arguments(PosShiftQueryArgsSchema, location="query")
    @blp.response(200, PosShiftSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*STAFF)
    def get(self, args):
        """List shifts (newest first; filter by register and status)."""
        return shifts.list_shifts(args)


@blp.route("/shifts/<uuid:shift_id>")
class ShiftById(MethodView):
    @blp.response(200, PosShiftSchema)
    @blp.error(404, "No such shift")
    @blp.requires_roles(*STAFF)
    def get(self, shift_id):
        """Get a shift."""
        return shifts.get_shift(shift_id)


@blp.route("/shifts/<uuid:shift_id>/cash-movements")
class ShiftCashMovements(MethodView):
    @blp.response(200, PosCashMovementSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.error(404, "No such shift")
    @blp.requires_roles(*STAFF)
    def get(self, shift_id):
        """List the cash put in and taken out during a shift."""
        return shifts.list_cash_movements(shift_id)

    @blp.arguments(PosCashMovementSchema)
    @blp.response(201, PosCashMovementSchema)
    @blp.error(404, "No such shift")
    @blp.error(409, "The shift is closed")
    @blp.requires_roles(*STAFF)
    def post(self, data, shift_id):
        """Put cash into (in) or take it out of (out) the drawer."""
        movement = shifts.add_cash_movement(g.tenant.id, shift_id, data, g.identity.actor)
        db.session.flush()
        return movement


@blp.route("/shifts/<uuid:shift_id>/x-report")
class ShiftXReport(MethodView):
    @blp.response(200, PosShiftReportSchema)
    @blp.error(404, "No such shift")
    @blp.error(409, "The shift is closed (see its Z report)")
    @blp.requires_roles(*STAFF)
    def get(self, shift_id):
        """X report: the open shift's totals so far."""
        return shifts.x_report(shift_id)


@blp.route("/shifts/<uuid:shift_id>/close")
class CloseShift(MethodView):
    @blp.arguments(PosCloseShiftSchema)
    @blp.response(200, PosShiftReportSchema)
    @blp.error(404, "No such shift")
    @blp.error(409, "The shift is closed already")
    @blp.requires_roles(*STAFF)
    def post(self, data, shift_id):
        """Close a shift with the counted cash; answers its Z report."""
        report = shifts.close_shift(g.tenant.id, shift_id, data, g.identity.actor)
        db.session.flush()
        return report


@blp.route("/shifts/<uuid:shift_id>/z-report")
class ShiftZReport(MethodView):
    @blp.response(200, PosShiftReportSchema)
    @blp.error(404, "No such shift")
    @blp.error(409, "The shift is still open (see its X report)")
    @blp.requires_roles(*STAFF)
    def get(self, shift_id):
        """Z report: the closed shift's totals, expected and counted cash."""
        return shifts.z_report(shift_id)


# --------------------------------------------------------------------------- receipts


@blp.route("/registers/<uuid:register_id>/receipts")
class RegisterReceipts(MethodView):
    @idempotent
    @blp.arguments(PosReceiptSchema)
    @blp.response(201, PosReceiptSchema)
    @blp.alt_response(200, schema=PosReceiptSchema,
                      description="A sale already recorded under this client_receipt_id")
    @blp.error(404, "No such register")
    @blp.error(409, "The register has no open shift; not enough stock; or a request with this "
                 "Idempotency-Key is still running")
    @blp.error(422, "Invalid fields; unknown or inactive product; payments short of the total or "
                 "change not in cash; an Idempotency-Key reused with another body")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*STAFF)
    def post(self, data, register_id):
        """Sell at a register in its open shift (fiscal status pending if the device fails)."""
        sale = receipts.create_receipt(g.tenant.id, register_id, data, g.identity.actor)
        return sale.receipt, 201 if sale.created else 200


@blp.route("/registers/<uuid:register_id>/receipts/batch")
class RegisterReceiptBatch(MethodView):
    @blp.arguments(PosReceiptBatchSchema)
    @blp.response(200, PosBatchResultSchema)
    @blp.error(404, "No such register")
    @blp.error(422, "Invalid fields in the batch (nothing is recorded)")
    @blp.requires_roles(*STAFF)
    def post(self, data, register_id):
        """Sync a till's offline queue: each sale recorded once, in order, with its outcome.

        A sale already recorded under its client_receipt_id is answered as it is (replayed); a
        refused one (no open shift, not enough stock, unknown product) is reported with its
        status and errors and does not stop the others.
        """
        registers.get_register(register_id)  # 404 before anything else
        return offline.sync_batch(data["receipts"], lambda item: receipts.create_receipt(
            g.tenant.id, register_id, item, g.identity.actor))


@blp.route("/receipts")
class Receipts(MethodView):
    @blp.arguments(PosReceiptQueryArgsSchema, location="query")
    @blp.response(200, PosReceiptSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*STAFF)
    def get(self, args):
        """List receipts (newest first; filter by register, shift, fiscal status)."""
        return receipts.list_receipts(args)


@blp.route("/receipts/<uuid:receipt_id>")
class ReceiptById(MethodView):
    @blp.response(200, PosReceiptSchema)
    @blp.error(404, "No such receipt")
    @blp.requires_roles(*STAFF)
    def get(self, receipt_id):
        """Get a receipt with its lines, payments and fiscal status."""
        return receipts.get_receipt(receipt_id)


@blp.route("/receipts/<uuid:receipt_id>/refunds")
class ReceiptRefunds(MethodView):
    @blp.response(200, PosRefundSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.error(404, "No such receipt")
    @blp.requires_roles(*STAFF)
    def get(self, receipt_id):
        """List the refunds of a receipt."""
        return refunds.list_refunds(receipt_id)

    @idempotent
    @blp.arguments(PosRefundSchema)
    @blp.response(201, PosRefundSchema)
    @blp.error(404, "No such receipt")
    @blp.error(409, "The receipt's register has no open shift; everything was refunded; or a "
                 "request with this Idempotency-Key is still running")
    @blp.error(422, "Invalid fields; a line not of this receipt; more than remains to refund")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*STAFF)
    def post(self, data, receipt_id):
        """Refund a receipt, in full (no lines) or per line; goods go back to stock."""
        return refunds.create_refund(g.tenant.id, receipt_id, data, g.identity.actor)


@blp.route("/refunds/<uuid:refund_id>")
class RefundById(MethodView):
    @blp.response(200, PosRefundSchema)
    @blp.error(404, "No such refund")
    @blp.requires_roles(*STAFF)
    def get(self, refund_id):
        """Get a refund."""
        return refunds.get_refund(refund_id)
