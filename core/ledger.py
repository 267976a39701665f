"""Hash-chained documents: which chains a deployment has, and walking one to prove it intact.

The database writes the chain (core migration c0a1f0000008): at the commit that posts a
document, ``tenantry_ledger_link`` gives it the next sequence number of its chain and stores
``content_hash`` (SHA-256 of the document's canonical content), the previous entry's hash and
``entry_hash = sha256(prev_hash || content_hash || "<seq>:<document id>")``. A module declares
its chains twice: in a migration (``core.sdk.migrations.chain_documents``: the content and the
trigger) and on its ``Module`` (``ledger_chains``: what ``verify`` walks).

``verify`` walks one tenant's chain (RLS) in order and reports the first break: a missing
sequence number, an entry that does not follow the previous one, a document changed or deleted
since it was chained, an entry whose own hash is wrong; and counts the chained table's
documents that have no entry at all (entries deleted from the end of a chain show there).
What it proves, and what it cannot (an owner who rewrites a whole chain consistently; hence
``head_hash`` to record elsewhere), is in docs/security.md, "Ledger".
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import text

from core.extensions import db

TENANT_WIDE = uuid.UUID(int=0)
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # the scope of a chain that is one per tenant


@dataclass(frozen=True)
class LedgerChain:
    """A chain a module's migration made with ``chain_documents``.

    ``name``: the chain (as in the migration); ``table``: the chained documents;
    ``scope_column``: one chain per value of it (None: one per tenant); ``chained``: which of
    the table's rows are chained (SQL on alias ``d``; a shift once closed); ``label``: for
    people."""

    name: str
    table: str
    label: str
    scope_column: str | None = None
    chained: str = "true"

    def __post_init__(self) -> None:
        for value in (self.name, self.table, self.scope_column or "x"):
            if not IDENTIFIER.fullmatch(value):
                raise ValueError(f"ledger chain {self.name!r}: {value!r} is not an identifier")


@dataclass
class ScopeReport:
    """One chain of one scope (a register, or the tenant) after a walk."""

    scope_id: uuid.UUID
    entries: int = 0
    head_hash: str | None = None  # hex; record it elsewhere to detect a rewritten chain
    broken_at: int | None = None  # the first sequence number that does not hold
    document_id: uuid.UUID | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass
class ChainReport:
    chain: str
    label: str
    scopes: list[ScopeReport] = field(default_factory=list)
    unchained: int = 0  # documents of the table with no entry

    @property
    def ok(self) -> bool:
        return self.unchained == 0 and all(scope.ok for scope in self.scopes)


def chains_of(registry, enabled: set[str] | None = None) -> list[LedgerChain]:
    """Every chain the installed modules declare (only ``enabled`` modules' when given)."""
    return [chain for key, module in registry.modules.items()
            if enabled is None or key in enabled
            for chain in getattr(module, "ledger_chains", ())]


def _walk(chain: LedgerChain, tenant_id: uuid.UUID, scope_id: uuid.UUID) -> ScopeReport:
    report = ScopeReport(scope_id=scope_id)
    rows = db.session.execute(text(f"""
        SELECT e.seq, e.document_id, e.content_hash, e.prev_hash, e.entry_hash,
               sha256(convert_to(tenantry_ledger_content_{chain.name}(e.tenant_id,
                                                                     e.document_id), 'UTF8')),
               tenantry_ledger_entry_hash(e.prev_hash, e.content_hash, e.seq, e.document_id)
          FROM ledger_entries e
         WHERE e.tenant_id = :tenant AND e.chain = :chain AND e.scope_id = :scope
         ORDER BY e.seq"""),  # noqa: S608 - names declared by modules, checked identifiers
        {"tenant": tenant_id, "chain": chain.name, "scope": scope_id}
    ).yield_per(1000)
    previous: bytes | None = None
    for seq, document_id, content, prev, entry, actual_content, actual_entry in rows:
        reason = None
        if seq != report.entries + 1:
            reason = f"entry {report.entries + 1} is missing"
        elif prev != previous:
            reason = "the entry does not follow the one before it"
        elif actual_content is None:
            reason = "the document is gone"
        elif bytes(actual_content) != bytes(content):
            reason = "the document changed after it was chained"
        elif bytes(actual_entry) != bytes(entry):
            reason = "the entry's hash does not match its content and place"
        if reason is not None:
            report.broken_at, report.document_id, report.reason = seq, document_id, reason
            rows.close()
            return report
        report.entries, previous = seq, bytes(entry)
    report.head_hash = previous.hex() if previous else None
    return report


def verify(chain: LedgerChain, tenant_id: uuid.UUID) -> ChainReport:
    """Walk every scope of ``chain`` for ``tenant_id``, the transaction's tenant (RLS holds
    the walk to it whatever is asked); see the module docstring."""
    report = ChainReport(chain=chain.name, label=chain.label)
    scopes = db.session.execute(text(
        "SELECT DISTINCT scope_id FROM ledger_entries WHERE tenant_id = :tenant "
        "AND chain = :chain ORDER BY scope_id"), {"tenant": tenant_id, "chain": chain.name}
    ).scalars().all()
    report.scopes = [_walk(chain, tenant_id, scope_id) for scope_id in scopes]
    report.unchained = db.session.execute(text(f"""
        SELECT count(*) FROM {chain.table} d
         WHERE d.tenant_id = :tenant AND ({chain.chained}) AND NOT EXISTS (
               SELECT 1 FROM ledger_entries e WHERE e.tenant_id = d.tenant_id
                  AND e.chain = :chain AND e.document_id = d.id)"""),  # noqa: S608 - as above
        {"tenant": tenant_id, "chain": chain.name}).scalar_one()
    return report
