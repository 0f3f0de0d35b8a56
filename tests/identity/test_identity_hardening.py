"""Identity hardening: console sessions (signed, expiring, revocable), OIDC ID tokens checked
against a JWKS file, rate limits of login and of the assistant, audited failures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from aicity.core import audit
from aicity.core.config import settings
from aicity.core.errors import Problem
from aicity.identity import auth
from aicity.identity import service as identity
from aicity.server import create_app

ISSUER = "https://idp.city.example"
CLIENT_ID = "aicity-console"


def _client(address: str) -> TestClient:
    return TestClient(create_app(load_city=False), client=(address, 50000))


def _key(role: str = "operator") -> str:
    return identity.create_api_key(f"hardening-{role}", role)[1]


def _actions(since: int) -> list[str]:
    return [e.action for e in audit.recent_entries(200) if e.seq > since]


def _last_seq() -> int:
    entries = audit.recent_entries(1)
    return entries[0].seq if entries else 0


def test_login_gives_a_session_cookie_and_bearer_token(city: Path) -> None:
    key, start = _key("operator"), _last_seq()
    with _client("10.1.0.1") as c:
        r = c.post("/api/v1/auth/login", json={"api_key": key})
        assert r.status_code == 200, r.text
        session = r.json()
        assert session["role"] == "operator" and session["token_type"] == "bearer"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and auth.COOKIE in cookie
        assert r.headers["cache-control"] == "no-store"
        # the cookie alone identifies the caller (the console's fetches send it)
        assert c.get("/api/v1/me").json() == {"role": "operator", "department": None, "authenticated": True}
        # and so does the token as a bearer, from anywhere
        with _client("10.1.0.2") as other:
            me = other.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"}).json()
            assert me["role"] == "operator"
        assert c.post("/api/v1/auth/logout").status_code == 204
        c.cookies.clear()
        r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
        assert r.status_code == 401 and "退出" in r.json()["detail"]
    assert {"auth.login", "auth.logout", "auth.failure"} <= set(_actions(start))


def test_sessions_expire_die_with_their_key_and_cannot_be_forged(city: Path) -> None:
    key = _key("admin")
    principal = identity.authenticate(key)
    assert principal is not None
    with _client("10.1.0.3") as c:
        token = c.post("/api/v1/auth/login", json={"api_key": key}).json()["token"]
        c.cookies.clear()
        bearer = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/v1/keys", headers=bearer).status_code == 200
        forged = jwt.encode({**jwt.decode(token, options={"verify_signature": False}), "role": "admin"},
                            "guessed-secret-of-32-bytes-or-more", algorithm="HS256")
        assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        expired = auth.issue_session(principal, "key", str(principal.key_id))
        claims = jwt.decode(expired["token"], options={"verify_signature": False})
        old = jwt.encode({**claims, "exp": int(time.time()) - 10}, auth._secret(), algorithm="HS256")
        r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
        assert r.status_code == 401 and "过期" in r.json()["detail"]
        identity.revoke_api_key(str(principal.key_id))
        assert c.get("/api/v1/me", headers=bearer).status_code == 401


def test_login_attempts_are_rate_limited_per_address(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings().auth, "login_rate", "3/minute")
    with _client("10.1.0.4") as c:
        codes = [c.post("/api/v1/auth/login", json={"api_key": "aic_wrong"}).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        r = c.post("/api/v1/auth/login", json={"api_key": "aic_wrong"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    with _client("10.1.0.5") as c:  # another address is not affected
        assert c.post("/api/v1/auth/login", json={"api_key": "aic_wrong"}).status_code == 401


def test_failed_authentication_is_audited_without_flooding(city: Path) -> None:
    start = _last_seq()
    with _client("10.1.0.6") as c:
        for _ in range(20):
            assert c.get("/api/v1/me", headers={"X-API-Key": "aic_bad"}).status_code == 401
    failures = [e for e in audit.recent_entries(100) if e.seq > start and e.action == "auth.failure"]
    assert len(failures) == auth._FAILURE_AUDITS
    assert all(e.target == "10.1.0.6" for e in failures)


def test_assistant_rate_limit_per_key(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings().auth, "assistant_rate", "2/minute")
    principal = identity.authenticate(_key("official"))
    auth.admit_assistant(principal, "10.1.0.7")
    auth.admit_assistant(principal, "10.1.0.8")  # the key counts, wherever it comes from
    with pytest.raises(Problem) as exc:
        auth.admit_assistant(principal, "10.1.0.9")
    assert exc.value.status == 429 and int(exc.value.headers["Retry-After"]) >= 1
    auth.admit_assistant(identity.authenticate(_key("official")), "10.1.0.7")  # another key is not affected


# --- OIDC ---------------------------------------------------------------------------------

@pytest.fixture()
def idp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[rsa.RSAPrivateKey]:
    """A provider of our own: an RSA key, its JWKS file, and `[aicity.oidc]` pointing at it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    monkeypatch.setattr(settings(), "oidc", {
        "issuer": ISSUER, "client_id": CLIENT_ID, "jwks_file": str(jwks), "role_claim": "groups",
        "role_map": {"city-staff": "official", "city-ops": "operator"}, "department_claim": "dept"})
    yield key


def _id_token(key: rsa.RSAPrivateKey, kid: str = "k1", **claims: object) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "u-1001", "iat": now, "exp": now + 300,
            "groups": ["city-staff", "city-ops"], "dept": "market", **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def test_oidc_id_token_opens_a_session_with_mapped_role(city: Path, idp: rsa.RSAPrivateKey) -> None:
    with _client("10.2.0.1") as c:
        r = c.post("/api/v1/auth/oidc", json={"id_token": _id_token(idp)})
        assert r.status_code == 200, r.text
        assert r.json()["role"] == "operator"  # the most privileged mapped group
        me = c.get("/api/v1/me").json()
        assert me["role"] == "operator" and me["authenticated"]
        dept = c.post("/api/v1/auth/oidc", json={"id_token": _id_token(idp, groups="city-staff")}).json()
        assert dept["role"] == "official" and dept["department"] in {d.id for d in identity.list_departments()} | {None}


@pytest.mark.parametrize("case", ["wrong-key", "wrong-audience", "wrong-issuer", "expired", "no-role", "hs256"])
def test_oidc_rejects_bad_tokens(city: Path, idp: rsa.RSAPrivateKey, case: str) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "wrong-key": lambda: _id_token(other),
        "wrong-audience": lambda: _id_token(idp, aud="someone-else"),
        "wrong-issuer": lambda: _id_token(idp, iss="https://evil.example"),
        "expired": lambda: _id_token(idp, exp=int(time.time()) - 600),
        "no-role": lambda: _id_token(idp, groups=["visitors"]),
        "hs256": lambda: jwt.encode({"iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "iat": int(time.time()),
                                     "exp": int(time.time()) + 60, "groups": "city-ops"}, "k" * 32,
                                    algorithm="HS256", headers={"kid": "k1"}),
    }[case]()
    with _client("10.2.0.2") as c:
        r = c.post("/api/v1/auth/oidc", json={"id_token": token})
    assert r.status_code == (403 if case == "no-role" else 401), r.text


def test_oidc_off_without_configuration(client: TestClient) -> None:
    r = client.post("/api/v1/auth/oidc", json={"id_token": "x.y.z"})
    assert r.status_code == 404 and r.json()["type"].endswith("oidc-disabled")
