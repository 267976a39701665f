"""Imports every platform route module so that their views are attached to ``blp``."""

from core.platform import auth, modules, templates, tenant_routes  # noqa: F401
from core.platform.blueprint import blp

__all__ = ["blp"]
