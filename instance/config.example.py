"""Example instance/config.py: copy to config.py and adjust. Environment variables win."""

ROOT_DOMAIN = "example.com"
PLATFORM_HOSTS = "admin.example.com"
RESERVED_SUBDOMAINS = "www,api,admin,platform,static"
LOG_LEVEL = "INFO"
LOG_FORMAT = "json"
TENANT_CACHE_TTL = 5
