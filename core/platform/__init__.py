"""The platform API (``/api/v1/platform``): platform login, tenants, modules, templates.

Answers only on PLATFORM_HOSTS (404 elsewhere) and only to platform credentials (401).
"""
