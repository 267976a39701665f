"""Built-in Tenantry plugins, one package per module (see core.plugins.BUILTIN_PLUGINS)."""
