"""Identity: roles, departments, API keys (统一身份认证, minimal)."""
