"""The stock module's public interface: what a module that ``requires`` stock may import.

Today: the ``Location`` model, which purchasing reads to offer the locations goods can be
received into (read only; stock changes only through the ``tenantry_stock_post_moves`` hook).
Anything else in this package is internal to stock (setup.cfg's import-linter contracts).
"""

from __future__ import annotations

from plugins.stock.models import Location

__all__ = ["Location"]
