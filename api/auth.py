"""Authentication: who is asking, from a bearer JWT (HTTP header, SSE header, or WebSocket ``connection_init``).

Tokens are checked for signature (HS256 with a shared secret, RS256/ES256 with keys from a JWKS file or URL),
issuer, audience, expiry and not-before, with a bounded clock skew. Roles come from a claim (``roles`` by
default: a list, or a space-separated string). A missing token is an anonymous principal (the authorization
extension answers UNAUTHENTICATED for anything that needs a role); a bad one is an ``AuthError``.

Development mode (``LOTGRAPH_AUTH_MODE=none``) skips all of it: every caller is a developer with every role.
It is off unless asked for, and the gateway says so loudly when it starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api import settings_tree

log = logging.getLogger("lotgraph.auth")

ROLES = ("shipping", "quality", "viewer", "admin")
ASYMMETRIC = ["RS256", "ES256"]


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    authenticated: bool
    sites: frozenset[str] | None = None
    """The sites the roles are scoped to (the sites claim); None when the token names none: every site."""


ANONYMOUS = Principal("anonymous", frozenset(), False)
DEVELOPER = Principal("developer", frozenset(ROLES), True)


class AuthError(Exception):
    """The token is present but not acceptable. The message is safe for clients."""

    code = "UNAUTHENTICATED"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    # The metadata makes these settings (LOTGRAPH_AUTH_…; api/settings_tree.py reads it).
    mode: str = field(
        default="jwt", metadata={"help": "jwt (bearer tokens), or none: development only", "choices": ("jwt", "none")}
    )
    hs256_secret: str | None = field(
        default=None, metadata={"help": "shared secret of HS256 tokens", "parse": settings_tree.secret}
    )
    jwks_file: Path | None = field(
        default=None, metadata={"help": "JWKS file with the public keys of RS256/ES256 tokens"}
    )
    jwks_url: str | None = field(
        default=None,
        metadata={"help": "JWKS URL of your identity provider (RS256/ES256)", "parse": settings_tree.url},
    )
    issuer: str | None = field(default=None, metadata={"help": "required iss claim, if set"})
    audience: str | None = field(default=None, metadata={"help": "required aud claim, if set"})
    leeway_seconds: float = field(
        default=30.0,
        metadata={"help": "clock skew tolerated on exp and nbf, seconds", "key": "leeway", "range": (0, 300)},
    )
    roles_claim: str = field(default="roles", metadata={"help": "claim holding the roles (a list or space-separated)"})
    sites_claim: str = field(
        default="sites",
        metadata={
            "help": "claim listing the sites the roles are scoped to (a list or space-separated): commands only on "
            "lots of those sites, reads everywhere; a token without it is scoped to every site, see "
            "[sites](sites.md#authorisation-by-site)"
        },
    )


class Authenticator:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._jwks: jwt.PyJWKSet | None = None
        self._jwks_client: jwt.PyJWKClient | None = None
        if settings.jwks_file is not None:
            self._jwks = jwt.PyJWKSet.from_json(settings.jwks_file.read_text())
        if settings.jwks_url is not None:
            self._jwks_client = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)

    @property
    def development(self) -> bool:
        return self.settings.mode == "none"

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization`` header value (``Bearer <jwt>``), anonymous when there is none."""
        if self.development:
            return DEVELOPER
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Authorization must be 'Bearer <token>'")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            key, algorithms = await self._key_for(header)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "sub"], "verify_aud": self.settings.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("the token is not valid yet") from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            raise AuthError("the token was not issued for this gateway") from None
        except (jwt.PyJWTError, ValueError, KeyError, TypeError, AttributeError):
            # whatever the token holds, a client's token is never a server error
            raise AuthError("the token is not valid") from None
        roles = _roles(claims.get(self.settings.roles_claim))
        return Principal(str(claims["sub"]), roles, True, _sites(claims.get(self.settings.sites_claim, ...)))

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, list[str]]:
        """The key for a token and the one algorithm it is verified with: the algorithm the key is for, never one
        the token names for a key of another kind (an RS256 header over an EC key)."""
        algorithm = header.get("alg")
        if algorithm == "HS256" and self.settings.hs256_secret:
            return self.settings.hs256_secret, ["HS256"]
        if algorithm in ASYMMETRIC:
            kid = header.get("kid")
            if kid is not None and not isinstance(kid, str):
                raise jwt.InvalidTokenError("kid must be a string")
            if self._jwks is not None:
                keys = [k for k in self._jwks.keys if kid is None or k.key_id == kid]
                if keys:
                    return _for_algorithm(keys[0], algorithm)
            if self._jwks_client is not None and kid is not None:
                signing_key = await asyncio.to_thread(self._jwks_client.get_signing_key, kid)
                return _for_algorithm(signing_key, algorithm)
        raise jwt.InvalidTokenError("no key for this token")


def _for_algorithm(key: jwt.PyJWK, algorithm: str) -> tuple[Any, list[str]]:
    if key.algorithm_name != algorithm:
        raise jwt.InvalidTokenError(f"the key is for {key.algorithm_name}, not {algorithm}")
    return key.key, [algorithm]


def _roles(claim: Any) -> frozenset[str]:
    if isinstance(claim, str):
        claim = claim.split()
    if not isinstance(claim, list):
        return frozenset()
    return frozenset(role for role in claim if isinstance(role, str) and role in ROLES)


def _sites(claim: Any) -> frozenset[str] | None:
    """No claim: every site. A claim that is no list of names scopes to no site (fail closed)."""
    if claim is ...:
        return None
    if isinstance(claim, str):
        claim = claim.split()
    if not isinstance(claim, list):
        return frozenset()
    return frozenset(site.lower() for site in claim if isinstance(site, str))


def mint(
    secret: str,
    subject: str,
    roles: list[str],
    *,
    ttl_seconds: int = 8 * 3600,
    issuer: str | None = None,
    audience: str | None = None,
    sites: list[str] | None = None,
) -> str:
    """An HS256 token, as ``lotgraph token`` and the demo hand out (``sites``: the sites claim, when given)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "roles": roles, "iat": now, "nbf": now, "exp": now + ttl_seconds}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    if sites is not None:
        claims["sites"] = sites
    return jwt.encode(claims, secret, algorithm="HS256")


def demo_secret(data_dir: Path) -> str:
    """The demo's HS256 secret, made once and kept under the demo's data dir."""
    path = data_dir / "demo-secret.json"
    if path.exists():
        return str(json.loads(path.read_text())["secret"])
    import secrets

    secret = secrets.token_urlsafe(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"secret": secret}))
    path.chmod(0o600)
    return secret


class AuthMiddleware:
    """Reads the bearer token of every HTTP request once, for the rate limiter and the GraphQL context.

    It refuses nothing itself: the authorization extension answers in GraphQL terms (UNAUTHENTICATED,
    FORBIDDEN). WebSocket clients authenticate in ``connection_init`` instead (browsers cannot set headers).
    """

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            try:
                state["principal"] = await self.authenticator.authenticate(Headers(scope=scope).get("authorization"))
            except AuthError as exc:
                state["principal"], state["auth_error"] = ANONYMOUS, str(exc)
        await self.app(scope, receive, send)
