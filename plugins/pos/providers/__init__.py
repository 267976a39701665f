"""Built-in cash-register providers, offered through ``tenantry_pos_cash_register_providers``:

- ``mock`` (``mock.MockProvider``): a working device in the database, numbering documents per
  register; the default.
- ``unavailable`` (``unavailable.UnavailableProvider``): a device that cannot be reached, so
  that operators (and tests) can see what happens when the fiscal side is down.
"""
