"""Stock operations: posting moves (the one way stock changes), counts, transfers, locations
and read models. Explicit arguments, flush never commit, ``core.errors`` for refusals.

Concurrency (why ``post_moves`` is shaped as it is): a posting first creates the missing
``stock_costs`` rows of the products it touches and locks the others, in one statement in
product-id order; then it changes every ``stock_balances`` row it touches with one
atomic upsert (``quantity = quantity + delta``; nothing at all when one would go below zero).
Two postings therefore queue on their first shared product instead of deadlocking (a row one
of them is creating makes the other wait before it locks anything), no update is lost, a
balance cannot be driven below zero by two takers that each saw enough stock, and the balance
rows need no order of their own: only the holder of a product's cost lock changes them.

Set-based: a posting sends the same handful of statements whatever its number of lines
(locations, create-or-lock costs, balances, then one statement for the costs and the moves).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.sdk import (
    Conflict,
    NotFound,
    Unprocessable,
    add_row,
    apply_changes,
    by_id,
    db,
    get_or_404,
    module_state,
    record_audit,
    value_taken,
    where_given,
)
from plugins.catalog.api import Product
from plugins.stock.models import Location, StockBalance, StockCost, StockMove

MODULE_KEY = "stock"
DEFAULT_LOCATION_CODE = "MAIN"
DEFAULT_LOCATION_NAME = "Main warehouse"
TRANSFER_REFERENCE = "stock_transfer"
COUNT_REFERENCE = "stock_count"
_COST_STEP = Decimal("0.0001")


@dataclass(frozen=True)
class MoveRequest:
    """One move to post; see ``hookspecs.tenantry_stock_post_moves`` for the fields."""

    product_id: uuid.UUID
    quantity: Decimal
    reason: str
    location_id: uuid.UUID | None = None
    unit_cost: Decimal | None = None
    reference_type: str | None = None
    reference_id: uuid.UUID | None = None
    note: str = ""


def negative_stock_allowed(tenant_id: uuid.UUID) -> bool:
    """The tenant's ``allow_negative_stock`` feature (off unless set)."""
    return bool(module_state(tenant_id, MODULE_KEY).features.get("allow_negative_stock", False))


# --------------------------------------------------------------------------- locations


def list_locations(args: dict[str, Any]) -> Select:
    statement = select(Location)
    if "active" in args:
        statement = statement.where(Location.active.is_(args["active"]))
    return statement.order_by(Location.is_default.desc(), Location.code, Location.id)


def get_location(location_id: uuid.UUID, lock: bool = False) -> Location:
    return get_or_404(Location, location_id, "location", lock)


def location_exists(tenant_id: uuid.UUID, location_id: uuid.UUID) -> bool:
    """Under RLS another tenant's location is no location at all; the tenant predicate is
    there for the planner (the primary key's prefix) and for a Citus router."""
    return db.session.get(Location, (tenant_id, location_id)) is not None


def default_location() -> Location | None:
    return db.session.execute(select(Location).where(Location.is_default)).scalar_one_or_none()


def _require_free_code(code: str, exclude: uuid.UUID | None = None) -> None:
    if value_taken(Location, "code", code, exclude):
        raise Conflict("another location has this code", {"code": ["already in use"]})


def _clear_default() -> None:
    db.session.execute(update(Location).where(Location.is_default).values(is_default=False)
                       .execution_options(synchronize_session="fetch"))
    db.session.flush()


def create_location(tenant_id: uuid.UUID, data: dict[str, Any]) -> Location:
    _require_free_code(data["code"])
    if data.get("is_default"):
        if not data.get("active", True):
            raise Unprocessable("the default location must be active",
                                {"active": ["must be true for the default location"]})
        _clear_default()
    return add_row(Location, tenant_id, data)


def update_location(location: Location, changes: dict[str, Any]) -> Location:
    if "code" in changes and changes["code"] != location.code:
        _require_free_code(changes["code"], exclude=location.id)
    becomes_default = changes.get("is_default") and not location.is_default
    if changes.get("active") is False and (location.is_default or becomes_default):
        raise Conflict("the default location cannot be deactivated; make another one the "
                       "default first")
    if becomes_default:
        if not changes.get("active", location.active):
            raise Unprocessable("the default location must be active",
                                {"active": ["must be true for the default location"]})
        _clear_default()
    return apply_changes(location, changes)


def ensure_default_location(tenant_id: uuid.UUID) -> Location:
    """The tenant's default location, created ("MAIN", "Main warehouse") if it has none.

    Called when the module is enabled; enabling it again finds the existing one.
    """
    location = default_location()
    if location is not None:
        return location
    location = db.session.execute(
        select(Location).where(Location.code == DEFAULT_LOCATION_CODE)).scalar_one_or_none()
    if location is None:
        location = Location(tenant_id=tenant_id, id=uuid.uuid4(), code=DEFAULT_LOCATION_CODE,
                            name=DEFAULT_LOCATION_NAME)
        db.session.add(location)
    location.is_default, location.active = True, True
    db.session.flush()
    return location


# --------------------------------------------------------------------------- posting


# Built once, like every statement a posting sends: a posting is on the path of each sale.
_LOCATIONS = select(Location).where(Location.id.in_(bindparam("ids", expanding=True)))
_LOCK_COSTS = insert(StockCost).from_select(
    ["tenant_id", "product_id"],
    select(Product.tenant_id, Product.id)
    .where(Product.tenant_id == bindparam("tenant_id"),
           Product.id.in_(bindparam("ids", expanding=True))).order_by(Product.id))
_LOCK_COSTS = _LOCK_COSTS.on_conflict_do_update(
    index_elements=[StockCost.tenant_id, StockCost.product_id],
    set_={"quantity": StockCost.__table__.c.quantity}).returning(
        StockCost, literal_column("xmax = 0").label("created"))  # inserted, not found


def _resolve_locations(moves: list[MoveRequest]) -> list[uuid.UUID]:
    """The location of each move (the default one where none is named); 422 per index."""
    named = {m.location_id for m in moves if m.location_id is not None}
    found = {row.id: row for row in db.session.execute(
        _LOCATIONS, {"ids": list(named)}).scalars()} if named else {}
    default = None
    if any(m.location_id is None for m in moves):
        default = default_location()
        if default is None:
            raise Conflict("the tenant has no default stock location; name a location_id")
    errors: dict[str, Any] = {}
    resolved = []
    for index, move in enumerate(moves):
        location = found.get(move.location_id) if move.location_id else default
        if location is None:
            errors[str(index)] = {"location_id": ["unknown location"]}
        elif not location.active:
            errors[str(index)] = {"location_id": ["location is inactive"]}
        else:
            resolved.append(location.id)
    if errors:
        raise Unprocessable("invalid stock moves", {"moves": errors})
    return resolved


def require_products(product_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among ``product_ids`` that are products of this tenant."""
    ids = set(product_ids)
    if not ids:
        return set()
    return set(db.session.execute(select(Product.id).where(Product.id.in_(ids))).scalars())


def _refuse_unknown(product_ids: list[uuid.UUID], known: Iterable[uuid.UUID],
                    collection: str) -> None:
    """422 naming each index of ``collection`` whose product is not in ``known``."""
    known = set(known)
    errors = {str(i): {"product_id": ["unknown product"]}
              for i, product_id in enumerate(product_ids) if product_id not in known}
    if errors:
        raise Unprocessable(f"invalid {collection}", {collection: errors})


def lock_products(tenant_id: uuid.UUID,
                  product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StockCost]:
    """Lock the cost rows of these products, creating the missing ones: {product id: row}.

    One statement whatever the number of products, in product-id order (see the module
    docstring for why that cannot deadlock): an upsert whose ``DO UPDATE`` changes nothing
    but locks the row it finds, as ``FOR UPDATE`` would (waiting for its holder, then taking
    the row as that one left it), and whose ``RETURNING`` answers created and found rows alike.
    Ids that are not this tenant's products get no row and are absent from the answer: the
    products are read under RLS.
    """
    return _lock_costs(tenant_id, product_ids)[0]


def _lock_costs(tenant_id: uuid.UUID, product_ids: Iterable[uuid.UUID],
                ) -> tuple[dict[uuid.UUID, StockCost], list[StockCost]]:
    """``lock_products``, and the rows it created (a refused posting removes them again)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}, []
    # "orm": the parameters are the statement's own, not rows of a bulk INSERT.
    rows = db.session.execute(_LOCK_COSTS, {"tenant_id": tenant_id, "ids": ids},
                              execution_options={"populate_existing": True,
                                                 "dml_strategy": "orm"}).all()
    return {row.StockCost.product_id: row.StockCost for row in rows}, [
        row.StockCost for row in rows if row.created]


_REMOVE_COSTS = text("DELETE FROM stock_costs WHERE tenant_id = :tenant_id "
                     "AND product_id = ANY(CAST(:ids AS uuid[]))")


def _remove_created(tenant_id: uuid.UUID, created: list[StockCost]) -> None:
    """Undo ``_lock_costs``' inserts for a posting that is refused: what a savepoint's
    rollback would do, on the refusal path only (see ``post_moves``)."""
    if not created:
        return
    db.session.execute(_REMOVE_COSTS, {"tenant_id": tenant_id,
                                       "ids": [cost.product_id for cost in created]})
    for cost in created:
        db.session.expunge(cost)


# One upsert for every (product, location) of a posting, the changes as arrays: fixed text,
# compiled once, where a multi-row VALUES would be a new statement for each number of rows.
# The time is bound from Python: a distributed PostgreSQL refuses now() in DO UPDATE SET.
_UPSERT_BALANCES = """
    INSERT INTO stock_balances AS b (tenant_id, product_id, location_id, quantity, updated_at)
    SELECT :tenant_id, c.product_id, c.location_id, c.delta, CAST(:now AS timestamptz)
    FROM {source}
    ON CONFLICT (tenant_id, product_id, location_id)
        DO UPDATE SET quantity = b.quantity + excluded.quantity,
                      updated_at = excluded.updated_at"""
_CHANGES = """unnest(CAST(:products AS uuid[]), CAST(:locations AS uuid[]),
                CAST(:deltas AS numeric[])) AS c (product_id, location_id, delta)"""
_BALANCES_ANY_SIGN = text(_UPSERT_BALANCES.format(source=_CHANGES))
# Without negative stock: all or nothing. The changes that would take a balance (existing or
# new) below zero are read first, in the same statement, and when there is one the upsert
# writes no row at all. The posting holds its products' cost locks, which every writer of
# these balances takes first, so the balances read cannot move before the upsert runs.
# (Composed of this module's constants only.)
_UNLESS_REFUSED = "changes AS c WHERE NOT EXISTS (SELECT FROM refused)"
_BALANCES_NOT_BELOW_ZERO = text(f"""
    WITH changes AS (SELECT * FROM {_CHANGES}),
    refused AS (
        SELECT c.product_id, c.location_id FROM changes AS c
        LEFT JOIN stock_balances AS held
               ON held.tenant_id = :tenant_id AND held.product_id = c.product_id
              AND held.location_id = c.location_id
        WHERE coalesce(held.quantity, 0) + c.delta < 0),
    written AS ({_UPSERT_BALANCES.format(source=_UNLESS_REFUSED)}
        RETURNING 1)
    SELECT product_id, location_id FROM refused""")  # noqa: S608


def _change_balances(tenant_id: uuid.UUID, deltas: dict[tuple[uuid.UUID, uuid.UUID], Decimal],
                     allow_negative: bool) -> list[dict[str, str]]:
    """Add each delta to its (product, location) balance in one upsert; the ones refused.

    Refused, unless negative stock is allowed: a change that would take a balance below zero,
    existing or new; then no balance changes at all.
    """
    changes = sorted((key, delta) for key, delta in deltas.items() if delta != 0)
    if not changes:
        return []
    result = db.session.execute(
        _BALANCES_ANY_SIGN if allow_negative else _BALANCES_NOT_BELOW_ZERO, {
            "tenant_id": tenant_id, "now": datetime.now(UTC),
            "products": [product_id for (product_id, _), _ in changes],
            "locations": [location_id for (_, location_id), _ in changes],
            "deltas": [delta for _, delta in changes]})
    if allow_negative:
        return []
    refused = set(map(tuple, result.all()))
    return [{"product_id": str(product_id), "location_id": str(location_id),
             "change": str(delta)}
            for (product_id, location_id), delta in changes
            if (product_id, location_id) in refused]


def _value_move(cost: StockCost, quantity: Decimal, unit_cost: Decimal | None) -> Decimal:
    """The move's unit cost; keeps the product's on-hand quantity and moving average.

    Stock coming in at a stated cost moves the average; anything else (sales, transfers,
    adjustments without a cost) is valued at the current average and leaves it unchanged.
    When nothing (or less than nothing) was on hand, the incoming cost becomes the average.
    """
    if quantity > 0 and unit_cost is not None:
        on_hand = cost.quantity
        if on_hand <= 0:
            cost.average_cost = unit_cost
        else:
            total = on_hand * cost.average_cost + quantity * unit_cost
            cost.average_cost = (total / (on_hand + quantity)).quantize(_COST_STEP, ROUND_HALF_UP)
        moved_at = unit_cost
    else:
        moved_at = unit_cost if unit_cost is not None else cost.average_cost
    cost.quantity += quantity
    return moved_at


# A posting's new costs and its moves in one statement (a flush sends the costs' UPDATEs and
# the moves' INSERT): fixed text, compiled once, the rows as arrays.
_WRITE_COSTS_AND_MOVES = text("""
    WITH costs AS (
        UPDATE stock_costs AS c
           SET quantity = n.quantity, average_cost = n.average_cost,
               updated_at = CAST(:now AS timestamptz)
          FROM unnest(CAST(:cost_product_id AS uuid[]), CAST(:cost_quantity AS numeric[]),
                      CAST(:cost_average_cost AS numeric[]))
               AS n (product_id, quantity, average_cost)
         WHERE c.tenant_id = :tenant_id AND c.product_id = n.product_id)
    INSERT INTO stock_moves (tenant_id, id, product_id, location_id, quantity, unit_cost, reason,
                             reference_type, reference_id, note, actor, created_at)
    SELECT :tenant_id, m.id, m.product_id, m.location_id, m.quantity, m.unit_cost, m.reason,
           m.reference_type, m.reference_id, m.note, :actor, CAST(:now AS timestamptz)
    FROM unnest(CAST(:move_id AS uuid[]), CAST(:move_product_id AS uuid[]),
                CAST(:move_location_id AS uuid[]), CAST(:move_quantity AS numeric[]),
                CAST(:move_unit_cost AS numeric[]), CAST(:move_reason AS text[]),
                CAST(:move_reference_type AS text[]), CAST(:move_reference_id AS uuid[]),
                CAST(:move_note AS text[]))
         AS m (id, product_id, location_id, quantity, unit_cost, reason, reference_type,
               reference_id, note)""")
# Each column as an array named "<cost|move>_<column>".
_COST_COLUMNS = ("product_id", "quantity", "average_cost")
_MOVE_COLUMNS = ("id", "product_id", "location_id", "quantity", "unit_cost", "reason",
                 "reference_type", "reference_id", "note")
_COST_VALUES = ("quantity", "average_cost", "updated_at")


def _write(tenant_id: uuid.UUID, costs: list[StockCost], rows: list[StockMove],
           actor: str, now: datetime) -> None:
    """Write the changed costs and the new moves, then leave the session as a flush would:
    the costs hold their new values with nothing pending, the moves are persistent. Without
    autoflush: it would send the costs' changes first, as UPDATEs of their own."""
    with db.session.no_autoflush:
        db.session.execute(_WRITE_COSTS_AND_MOVES, {
            "tenant_id": tenant_id, "actor": actor, "now": now,
            **{f"cost_{column}": [getattr(cost, column) for cost in costs]
               for column in _COST_COLUMNS},
            **{f"move_{column}": [getattr(row, column) for row in rows]
               for column in _MOVE_COLUMNS}})
    for cost in costs:
        cost.updated_at = now
        for name in _COST_VALUES:
            set_committed_value(cost, name, getattr(cost, name))
    for row in rows:
        make_transient_to_detached(row)
    db.session.add_all(rows)


def post_moves(tenant_id: uuid.UUID, moves: list[MoveRequest], actor: str, *,
               allow_negative: bool) -> list[StockMove]:
    """Post moves all or nothing, with balances and costs; see module docstring.

    No savepoint (two round trips and SQLAlchemy's nested transaction on every sale): what
    can refuse a posting is decided before it writes, except the cost rows its lock creates,
    which a refusal deletes again (``_remove_created``). A database error leaves the caller's
    transaction failed, as any statement's error does.
    """
    if not moves:
        raise Unprocessable("no stock moves given", {"moves": ["at least one move"]})
    locations = _resolve_locations(moves)
    product_ids = [m.product_id for m in moves]
    costs, created = _lock_costs(tenant_id, product_ids)
    deltas: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = defaultdict(Decimal)
    for move, location_id in zip(moves, locations, strict=True):
        deltas[(move.product_id, location_id)] += move.quantity
    try:
        _refuse_unknown(product_ids, costs, "moves")
        short = _change_balances(tenant_id, deltas, allow_negative)
        if short:
            raise Conflict("not enough stock: the move would take a balance below zero",
                           {"insufficient": short})
    except (Conflict, Unprocessable):
        _remove_created(tenant_id, created)
        raise
    now = datetime.now(UTC)
    rows = [StockMove(
        tenant_id=tenant_id, id=uuid.uuid4(), product_id=move.product_id,
        location_id=location_id, quantity=move.quantity, reason=move.reason,
        unit_cost=_value_move(costs[move.product_id], move.quantity, move.unit_cost),
        reference_type=move.reference_type, reference_id=move.reference_id,
        note=move.note or "", actor=actor, created_at=now)
        for move, location_id in zip(moves, locations, strict=True)]
    _write(tenant_id, [costs[product_id] for product_id in dict.fromkeys(product_ids)],
           rows, actor, now)
    return rows


def get_location_for_move(location_id: uuid.UUID | None) -> Location:
    """A named active location (422 otherwise), or the default one."""
    if location_id is None:
        location = default_location()
        if location is None:
            raise Conflict("the tenant has no default stock location; name a location_id")
        return location
    location = by_id(Location, location_id)
    if location is None:
        raise Unprocessable("unknown location", {"location_id": ["unknown location"]})
    if not location.active:
        raise Unprocessable("location is inactive", {"location_id": ["location is inactive"]})
    return location


def count(tenant_id: uuid.UUID, location_id: uuid.UUID | None, lines: list[dict[str, Any]],
          note: str, actor: str) -> dict[str, Any]:
    """Set balances to physically counted quantities with compensating adjustment moves."""
    location = get_location_for_move(location_id)
    product_ids = [line["product_id"] for line in lines]
    # Locked: nobody moves these products until the count is posted.
    _refuse_unknown(product_ids, lock_products(tenant_id, product_ids), "lines")
    current = dict(db.session.execute(
        select(StockBalance.product_id, StockBalance.quantity).where(
            StockBalance.location_id == location.id,
            StockBalance.product_id.in_([line["product_id"] for line in lines]))).all())
    count_id = uuid.uuid4()
    results, moves = [], []
    for line in lines:
        previous = current.get(line["product_id"], Decimal(0))
        difference = line["counted_quantity"] - previous
        results.append({"product_id": line["product_id"], "previous_quantity": previous,
                        "counted_quantity": line["counted_quantity"], "difference": difference})
        if difference:
            moves.append(MoveRequest(line["product_id"], difference, "adjustment", location.id,
                                     line.get("unit_cost") if difference > 0 else None,
                                     COUNT_REFERENCE, count_id, note))
    posted = post_moves(tenant_id, moves, actor, allow_negative=False) if moves else []
    record_audit(tenant_id, "stock.counted", target_type="stock_count", target_id=count_id,
                 after={"location_id": location.id, "note": note, "lines": [
                     {key: line[key] for key in ("product_id", "previous_quantity",
                                                 "counted_quantity")}
                     for line in results if line["difference"]]})
    return {"id": count_id, "location_id": location.id, "lines": results, "moves": posted}


def transfer(tenant_id: uuid.UUID, from_location_id: uuid.UUID, to_location_id: uuid.UUID,
             lines: list[dict[str, Any]], note: str, actor: str, *,
             allow_negative: bool) -> dict[str, Any]:
    """Move goods between two locations: a pair of moves per line, in one transaction."""
    if from_location_id == to_location_id:
        raise Unprocessable("a transfer needs two different locations",
                            {"to_location_id": ["must differ from from_location_id"]})
    transfer_id = uuid.uuid4()
    moves = []
    for line in lines:
        moves.append(MoveRequest(line["product_id"], -line["quantity"], "transfer",
                                 from_location_id, None, TRANSFER_REFERENCE, transfer_id, note))
        moves.append(MoveRequest(line["product_id"], line["quantity"], "transfer",
                                 to_location_id, None, TRANSFER_REFERENCE, transfer_id, note))
    posted = post_moves(tenant_id, moves, actor, allow_negative=allow_negative)
    return {"id": transfer_id, "from_location_id": from_location_id,
            "to_location_id": to_location_id, "moves": posted}


# --------------------------------------------------------------------------- reading


def list_moves(args: dict[str, Any]) -> Select:
    statement = where_given(select(StockMove), StockMove, args, "product_id", "location_id",
                            "reason", "reference_type", "reference_id")
    if "since" in args:
        statement = statement.where(StockMove.created_at >= args["since"])
    if "until" in args:
        statement = statement.where(StockMove.created_at < args["until"])
    if args["sort"] == "created_at":
        return statement.order_by(StockMove.created_at, StockMove.id)
    return statement.order_by(StockMove.created_at.desc(), StockMove.id.desc())


def get_move(move_id: uuid.UUID) -> StockMove:
    return get_or_404(StockMove, move_id, "stock move")


def list_balances(args: dict[str, Any]) -> Select:
    statement = where_given(select(StockBalance), StockBalance, args, "product_id",
                            "location_id")
    if args.get("nonzero"):
        statement = statement.where(StockBalance.quantity != 0)
    return statement.order_by(StockBalance.product_id, StockBalance.location_id)


def product_stock(product_id: uuid.UUID) -> dict[str, Any]:
    """A product's quantity per location and in all, and its average cost."""
    if not require_products([product_id]):
        raise NotFound("product not found")
    cost = db.session.execute(
        select(StockCost).where(StockCost.product_id == product_id)).scalar_one_or_none()
    balances = db.session.execute(
        select(StockBalance).where(StockBalance.product_id == product_id)
        .order_by(StockBalance.location_id)).scalars().all()
    return {"product_id": product_id,
            "quantity": cost.quantity if cost else Decimal("0"),
            "average_cost": cost.average_cost if cost else Decimal("0"),
            "balances": balances}


def on_hand(product_ids: Iterable[uuid.UUID], location_id: uuid.UUID | None) -> dict:
    ids = list(product_ids)
    totals = dict.fromkeys(ids, Decimal("0"))
    if not ids:
        return totals
    statement = (select(StockBalance.product_id, func.sum(StockBalance.quantity))
                 .where(StockBalance.product_id.in_(ids)).group_by(StockBalance.product_id))
    if location_id is not None:
        statement = statement.where(StockBalance.location_id == location_id)
    totals.update(dict(db.session.execute(statement).all()))
    return totals


def move_as_dict(move: StockMove) -> dict[str, Any]:
    """What the stock hook returns for a posted move (no ORM object leaves the module)."""
    return {"id": move.id, "product_id": move.product_id, "location_id": move.location_id,
            "quantity": move.quantity, "unit_cost": move.unit_cost, "reason": move.reason,
            "reference_type": move.reference_type, "reference_id": move.reference_id,
            "created_at": move.created_at}
