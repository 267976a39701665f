"""The catalog module's public interface: what a module that ``requires`` catalog may import.

Today: the ``Product`` model, which stock, purchasing, sales and POS read (names, prices, tax
rates, active flag) and reference by composite foreign key. Anything else in this package is
internal to catalog and may change without notice (setup.cfg's import-linter contracts).
"""

from __future__ import annotations

from plugins.catalog.models import Product

__all__ = ["Product"]
