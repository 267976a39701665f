"""Identity: passwords, JWTs, API keys, the bootstrap token, and request authentication."""
