"""The identity slices: departments, roles and API keys (`identity`), console sessions and
logins (`auth`)."""

from aicity.core.slices import Command, HttpRouter, Section, Slice

identity = Slice(
    id="identity",
    title="身份与部门 identity: departments, roles, API keys",
    tables=("aicity.identity.models",),
    routers=(HttpRouter("aicity.identity.api:router"),),
    commands=(Command("keys", "aicity.identity.cli:app", "API 密钥 API keys"),),
    demo="aicity.identity.demo:load_demo",
)

auth = Slice(
    id="auth",
    title="登录与会话 console sessions, API-key and OIDC logins, rate limits",
    depends_on=("identity",),
    routers=(HttpRouter("aicity.identity.auth_api:router"),),
    settings=(Section("auth", "aicity.identity.auth_settings:AuthConfig"),
              Section("oidc", "aicity.identity.auth_settings:OidcConfig")),
)
