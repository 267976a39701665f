"""The stock service other modules call: ``tenantry_stock_post_moves`` and
``tenantry_stock_on_hand`` on the app's plugin manager, in the caller's transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from core.app_state import app_state
from core.errors import Conflict, Unprocessable
from core.extensions import db
from core.rls import tenant_context
from core.tenancy import module_state
from tests.fixtures.products import make_product, on_hand, receive_stock
from tests.fixtures.statements import statements_sent


@pytest.fixture
def hook(app):
    with app.app_context():
        yield app_state(app).registry.hook


def test_the_specs_are_registered_with_their_implementation(hook):
    for name in ("tenantry_stock_post_moves", "tenantry_stock_on_hand"):
        caller = getattr(hook, name)
        assert caller.spec is not None and caller.spec.opts["firstresult"]
        assert [impl.plugin_name for impl in caller.get_hookimpls()] == ["stock"]


def test_a_sale_posted_through_the_hook(app, hook, shop):
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 5, "2.50")
    sale_id = uuid.uuid4()
    with tenant_context(shop.id):
        assert module_state(shop.id, "stock").enabled
        posted = hook.tenantry_stock_post_moves(tenant_id=shop.id, actor="user:cashier", moves=[
            {"product_id": uuid.UUID(product["id"]), "quantity": Decimal("-2"),
             "reason": "sale", "reference_type": "sale", "reference_id": sale_id}])
        db.session.commit()
    assert len(posted) == 1
    move = posted[0]
    assert move["quantity"] == Decimal("-2") and move["unit_cost"] == Decimal("2.5000")
    assert move["reference_id"] == sale_id and move["reason"] == "sale"
    assert move["location_id"] == uuid.UUID(shop.default_location())
    assert on_hand(shop.admin, product["id"]) == 3
    with tenant_context(shop.id):
        quantities = hook.tenantry_stock_on_hand(tenant_id=shop.id, location_id=None,
                                                 product_ids=[uuid.UUID(product["id"]),
                                                              uuid.uuid4()])
    assert list(quantities.values()) == [Decimal("3"), Decimal("0")]
    ledger = shop.admin.get(f"/api/v1/stock/moves?reference_id={sale_id}").json
    assert [m["actor"] for m in ledger] == ["user:cashier"]


def test_refusals_raise_domain_errors_and_write_nothing(hook, shop, other_shop):
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 1)
    theirs = make_product(other_shop.admin)
    cases = [
        (Conflict, [{"product_id": product["id"], "quantity": "-2", "reason": "sale"}]),
        (Unprocessable, [{"product_id": theirs["id"], "quantity": "-1", "reason": "sale"}]),
        (Unprocessable, [{"product_id": product["id"], "quantity": "1", "reason": "transfer"}]),
        (Unprocessable, [{"product_id": product["id"], "quantity": "0", "reason": "sale"}]),
        (Unprocessable, [{"product_id": product["id"], "quantity": "1", "reason": "sale",
                          "colour": "red"}]),
        (Unprocessable, []),
    ]
    for error, moves in cases:
        with tenant_context(shop.id), pytest.raises(error) as raised:
            hook.tenantry_stock_post_moves(tenant_id=shop.id, actor="test", moves=[
                {"product_id": product["id"], "quantity": "-1", "reason": "sale"}, *moves]
                if moves else [])
        db.session.rollback()
        if error is Unprocessable and moves:
            assert "1" in raised.value.errors["moves"], raised.value.errors
    assert on_hand(shop.admin, product["id"]) == 1
    assert len(shop.admin.get(f"/api/v1/stock/moves?product_id={product['id']}").json) == 1


def test_a_refusal_leaves_the_callers_own_work_in_place(hook, shop):
    """A caller that handles the refusal keeps its work, and commits nothing of the posting."""
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 1)
    with tenant_context(shop.id):
        receive = [{"product_id": product["id"], "quantity": "4", "reason": "return"}]
        hook.tenantry_stock_post_moves(tenant_id=shop.id, actor="test", moves=receive)
        with pytest.raises(Conflict):
            hook.tenantry_stock_post_moves(tenant_id=shop.id, actor="test", moves=[
                {"product_id": product["id"], "quantity": "-9", "reason": "sale"}])
        db.session.commit()
    assert on_hand(shop.admin, product["id"]) == 5


def _stock_rows(shop, product_ids: list[str]) -> dict[str, list]:
    """The product's rows in each table a posting writes (as the tenant: RLS applies)."""
    with tenant_context(shop.id):
        rows = {table: db.session.execute(text(
            f"SELECT * FROM {table} WHERE tenant_id = :tenant "
            "AND product_id = ANY(CAST(:ids AS uuid[])) "
            "ORDER BY 1, 2, 3"), {"tenant": shop.id, "ids": product_ids}).all()
            for table in ("stock_costs", "stock_balances", "stock_moves")}
        db.session.rollback()
    return rows


@pytest.mark.parametrize("refusal", ["short", "unknown"])
def test_a_refused_posting_of_several_products_writes_nothing(hook, shop, other_shop, refusal):
    """All or nothing without a savepoint: one product short (or not the tenant's) and no
    balance moves, no move is written, and the cost row the posting had to create for a
    product that never moved is removed again, though the caller commits afterwards."""
    stocked, fresh = make_product(shop.admin), make_product(shop.admin)
    receive_stock(shop.admin, stocked["id"], 3)
    before = _stock_rows(shop, [stocked["id"], fresh["id"]])
    assert before["stock_costs"] and not _stock_rows(shop, [fresh["id"]])["stock_costs"]
    last = ({"product_id": stocked["id"], "quantity": "-4", "reason": "sale"}
            if refusal == "short" else
            {"product_id": make_product(other_shop.admin)["id"], "quantity": "-1",
             "reason": "sale"})
    with tenant_context(shop.id):
        with pytest.raises(Conflict if refusal == "short" else Unprocessable) as raised:
            hook.tenantry_stock_post_moves(tenant_id=shop.id, actor="test", moves=[
                {"product_id": fresh["id"], "quantity": "2", "reason": "return"},
                {"product_id": stocked["id"], "quantity": "-1", "reason": "sale"}, last])
        db.session.commit()
    if refusal == "short":
        assert [entry["product_id"] for entry in raised.value.errors["insufficient"]] == [
            stocked["id"]]
    else:
        assert list(raised.value.errors["moves"]) == ["2"]
    assert _stock_rows(shop, [stocked["id"], fresh["id"]]) == before


def test_postings_in_one_transaction_see_each_other_and_leave_nothing_pending(app, hook, shop):
    """A posting writes its costs and moves in one statement, then leaves the session as a
    flush would: the next posting of the transaction values its moves at the new average, and
    no change is left for a flush (the savepoint's release, the commit) to send again."""
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 5, "2.50")
    posted = []

    def post(quantity: str, **extra) -> None:
        posted.extend(hook.tenantry_stock_post_moves(tenant_id=shop.id, actor="test", moves=[
            {"product_id": product["id"], "quantity": quantity, **extra}]))

    with tenant_context(shop.id):
        sent = statements_sent(app, lambda: (
            post("5", reason="receipt", unit_cost="3.50"), post("-2", reason="sale"),
            db.session.flush()))
        db.session.commit()
    assert posted[1]["unit_cost"] == Decimal("3.0000")
    writes = [s.split(" (")[0] for s in sent if s.startswith(("INSERT", "UPDATE", "WITH"))]
    assert writes == ["INSERT INTO stock_costs", "WITH changes AS", "WITH costs AS"] * 2, sent
    assert not [s for s in sent if "SAVEPOINT" in s], sent  # all or nothing without one
    assert on_hand(shop.admin, product["id"]) == 8
    stock = shop.admin.get(f"/api/v1/stock/products/{product['id']}").json
    assert Decimal(stock["average_cost"]) == Decimal("3.0000"), stock
