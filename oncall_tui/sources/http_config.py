"""How to reach a Prometheus-compatible backend: extra headers, one auth method, TLS — following
Prometheus' own `http_config` (REFERENCE R12). Secrets are read from files at each request, never
kept in settings and never shown (`public()` prints `<secret>`).

The config file's `[prometheus]` table:

    [prometheus]
    url = "https://mimir.example/prometheus"
    headers = { "X-Scope-OrgID" = "ml-team" }          # Mimir/Cortex tenant
    authorization = { type = "Bearer", credentials_file = "/run/secrets/prom-token" }
    # or: basic_auth = { username = "oncall", password_file = "/run/secrets/prom-password" }
    tls_config = { ca_file = "/etc/ssl/prom-ca.pem", cert_file = "", key_file = "", insecure_skip_verify = false }
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generator, Mapping

import httpx

from ..config import ConfigError

SECRET = "<secret>"
_FORBIDDEN_HEADERS = {"authorization", "host", "content-length"}
_KEYS = {"url", "headers", "authorization", "basic_auth", "bearer_token_file", "tls_config", "timeout"}


@dataclass(frozen=True)
class HttpConfig:
    headers: tuple[tuple[str, str], ...] = ()
    auth_type: str = ""  # "Bearer" (or another scheme) with credentials_file; "basic" with the password file
    credentials_file: str = ""
    username: str = ""
    password_file: str = ""
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False

    def public(self) -> dict[str, Any]:
        """What may be shown or logged: header names with their values, files' paths, no secret."""
        out: dict[str, Any] = {"headers": dict(self.headers)}
        if self.auth_type:
            out["auth"] = f"{self.auth_type} {SECRET}"
        if self.username:
            out["username"] = self.username
        out["tls"] = {"ca_file": self.ca_file, "insecure_skip_verify": self.insecure_skip_verify}
        return out

    def verify(self) -> ssl.SSLContext | bool:
        if self.insecure_skip_verify:
            return False
        if not (self.ca_file or self.cert_file):
            return True
        context = ssl.create_default_context(cafile=self.ca_file or None)
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file or None)
        return context

    def auth(self) -> httpx.Auth | None:
        if self.auth_type.lower() == "basic":
            return FileBasicAuth(self.username, self.password_file)
        if self.auth_type:
            return FileTokenAuth(self.auth_type, self.credentials_file)
        return None

    def client(self, timeout: float) -> httpx.AsyncClient:
        """An async client that sends the headers and auth and checks TLS as configured."""
        return httpx.AsyncClient(timeout=timeout, headers=dict(self.headers), auth=self.auth(),
                                 verify=self.verify(), trust_env=False)


def _read_secret(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        # the path is not secret; its content is never part of a message
        raise httpx.RequestError(f"cannot read the secret file {path}: {exc.strerror}") from None


class FileTokenAuth(httpx.Auth):
    """`Authorization: <type> <credentials>`, the credentials re-read from their file at every request."""

    def __init__(self, scheme: str, path: str) -> None:
        self.scheme, self.path = scheme, path

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"{self.scheme} {_read_secret(self.path)}"
        yield request

    def __repr__(self) -> str:
        return f"FileTokenAuth({self.scheme} {SECRET})"


class FileBasicAuth(httpx.Auth):
    def __init__(self, username: str, path: str) -> None:
        self.username, self.path = username, path

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        basic = httpx.BasicAuth(self.username, _read_secret(self.path))
        yield from basic.auth_flow(request)

    def __repr__(self) -> str:
        return f"FileBasicAuth({self.username}:{SECRET})"


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    return value


def from_table(table: Mapping[str, Any], where: str = "[prometheus]") -> HttpConfig:
    """Parse the `[prometheus]` table; refuse inline secrets and more than one auth method."""
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    headers = []
    for name, value in _table(table.get("headers"), f"{where} headers").items():
        if str(name).lower() in _FORBIDDEN_HEADERS:
            raise ConfigError(f"{where}: set {name} with `authorization` or `basic_auth`, not as a header")
        headers.append((str(name), str(value)))
    authz = _table(table.get("authorization"), f"{where} authorization")
    basic = _table(table.get("basic_auth"), f"{where} basic_auth")
    if table.get("bearer_token_file"):
        authz = {"type": "Bearer", "credentials_file": table["bearer_token_file"], **authz}
    for inline, what in (("credentials", authz), ("password", basic)):
        if inline in what:
            raise ConfigError(f"{where}: put the secret in a file and give `{inline}_file` (never inline)")
    if authz and basic:
        raise ConfigError(f"{where}: only one of `authorization` and `basic_auth` may be set")
    tls = _table(table.get("tls_config"), f"{where} tls_config")
    config = HttpConfig(headers=tuple(headers), ca_file=str(tls.get("ca_file", "")),
                        cert_file=str(tls.get("cert_file", "")), key_file=str(tls.get("key_file", "")),
                        insecure_skip_verify=bool(tls.get("insecure_skip_verify", False)))
    if authz:
        if not authz.get("credentials_file"):
            raise ConfigError(f"{where} authorization: `credentials_file` is required")
        return replace(config, auth_type=str(authz.get("type", "Bearer")),
                       credentials_file=str(authz["credentials_file"]))
    if basic:
        if not basic.get("username") or not basic.get("password_file"):
            raise ConfigError(f"{where} basic_auth: `username` and `password_file` are required")
        return replace(config, auth_type="basic", username=str(basic["username"]),
                       password_file=str(basic["password_file"]))
    return config


def for_settings(settings: Any) -> HttpConfig:
    """The `[prometheus]` table of the config file (and the profile's), parsed; for one of `[[clusters]]`,
    that cluster's `prometheus` table (tenant header, auth, TLS). Raises ConfigError."""
    from ..config import section

    if getattr(settings, "prometheus_http", None) is not None:
        return from_table(settings.prometheus_http, f"[[clusters]] {settings.cluster} prometheus")
    return from_table(section(settings, "prometheus"))


def prometheus_client(settings: Any, timeout: float) -> httpx.AsyncClient | None:
    """A client for the alerts poll that honours `[prometheus]`; None (the source's default client)
    when the table is absent or invalid — the signal panel then shows the configuration error."""
    try:
        config = for_settings(settings)
        return config.client(timeout) if config != HttpConfig() else None
    except (ConfigError, OSError, ssl.SSLError):
        return None
