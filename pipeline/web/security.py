"""What keeps the page safe when an office shares it: one ASGI middleware in front of the app.

- Host check on the loopback: a page bound to 127.0.0.1 answers only to 127.0.0.1 / localhost, so
  a web site cannot reach it through a DNS name that resolves to the loopback (DNS rebinding).
- Access token (required off the loopback): `Authorization: Bearer T`, `X-Speechsmith-Token: T`,
  or the cookie a `?token=T` link sets once; anything else is 401.
- Cross-site posts: a POST whose Origin is another site is refused; one from a browser must also
  carry the page's CSRF token in `X-CSRF-Token` (JSON bodies and token-header API calls cannot be
  sent by a foreign page without a CORS preflight, which this app never grants).
- Body size: requests over the upload limit are cut off with 413 and one clear message, before
  the body is read into memory.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

TOKEN_COOKIE = "speechsmith_token"
CSRF_HEADER = "x-csrf-token"
TOKEN_HEADER = "x-speechsmith-token"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

__all__ = ["Guard", "csrf_token", "is_loopback", "human_size"]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost (what only this machine can reach)."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def csrf_token(secret: bytes) -> str:
    """The page's CSRF token: derived from the server's secret, so a restart changes it."""
    return hmac.new(secret, b"csrf", hashlib.sha256).hexdigest()[:32]


def human_size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


class BodyTooLarge(Exception):
    pass


class Guard:
    """ASGI middleware: host check, token, cross-site posts, body size (see the module doc)."""

    def __init__(
        self, app: Callable[..., Awaitable[None]], *, token: str | None, loopback_only: bool,
        max_body: int, secret: bytes, limit_label: str,
    ) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only
        self.max_body = max_body
        self.csrf = csrf_token(secret)
        self.limit_label = limit_label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET")
        api = scope.get("path", "").startswith("/api/")
        host = headers.get("host", "")
        if self.loopback_only and not is_loopback(urlsplit(f"//{host}").hostname or ""):
            await _reply(send, 421, "此页面只接受本机地址访问（127.0.0.1 或 localhost）。", api)
            return
        if self.token:
            link_token = _query_token(scope)
            if link_token is not None and method in _SAFE_METHODS:
                await self._token_link(scope, send, link_token, api)
                return
            if not self._has_token(headers):
                await _reply(send, 401, "需要访问令牌：请使用管理员给的带 ?token= 的链接打开，"
                                        "或在请求头 Authorization: Bearer … 中提供。", api)
                return
        if method not in _SAFE_METHODS:
            refusal = self._cross_site(headers, host)
            if refusal:
                await _reply(send, 403, refusal, api)
                return
            length = headers.get("content-length")
            if length and length.isdigit() and int(length) > self.max_body:
                await _reply(send, 413, self._too_large(int(length)), api)
                return
            await self._limited(scope, receive, send, api)
            return
        await self.app(scope, receive, send)

    def _has_token(self, headers: dict[str, str]) -> bool:
        assert self.token
        given = headers.get(TOKEN_HEADER, "")
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = given or auth[7:].strip()
        if not given and "cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:  # noqa: BLE001 - a malformed cookie header is just no token
                return False
            morsel = cookie.get(TOKEN_COOKIE)
            given = morsel.value if morsel else ""
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    async def _token_link(self, scope: Scope, send: Send, given: str, api: bool) -> None:
        assert self.token
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            await _reply(send, 401, "访问令牌不对：请向管理员要正确的链接。", api)
            return
        rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != "token"]
        location = scope.get("path", "/") + (f"?{urlencode(rest)}" if rest else "")
        # Lax, not Strict: a link opened from a chat or mail program is a cross-site navigation,
        # and the redirect after it must still carry the cookie; posts are covered by the CSRF token.
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Lax"
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
            (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def _cross_site(self, headers: dict[str, str], host: str) -> str | None:
        origin = headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc.lower() != host.lower():
            return "拒绝跨站提交：请求来自其他网站。"
        if origin == "null" or headers.get("sec-fetch-site") == "cross-site":
            return "拒绝跨站提交：请求来自其他网站。"
        if hmac.compare_digest(headers.get(CSRF_HEADER, "").encode(), self.csrf.encode()):
            return None
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json" or TOKEN_HEADER in headers or "authorization" in headers:
            return None  # a foreign page cannot send these without a preflight this app never grants
        return "拒绝提交：缺少页面的防跨站令牌，请刷新页面后重试。"

    def _too_large(self, size: int) -> str:
        return f"上传的内容太大（{human_size(size)}）：上限是 {self.limit_label}。请上传讲话稿或报告的文本文件。"

    async def _limited(self, scope: Scope, receive: Receive, send: Send, api: bool) -> None:
        seen = 0
        over = False
        replaced = False

        async def counted() -> dict[str, Any]:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    over = True
                    raise BodyTooLarge
            return message

        async def tracked(message: dict[str, Any]) -> None:
            # The app may turn the cut-off body into its own error (a parse error, 400): the
            # writer gets the size message instead.
            nonlocal replaced
            if not over:
                await send(message)
            elif not replaced and message["type"] == "http.response.start":
                replaced = True
                await _reply(send, 413, self._too_large(seen), api)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not replaced:
                await _reply(send, 413, self._too_large(seen), api)


def _query_token(scope: Scope) -> str | None:
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if key == "token":
            return value
    return None


async def _reply(send: Send, status: int, message: str, api: bool) -> None:
    if api:
        body = json.dumps({"error": message}, ensure_ascii=False).encode()
        ctype = b"application/json"
    else:
        body = (f"<!doctype html><meta charset=utf-8><title>speechsmith</title>"
                f"<p style='font:16px sans-serif;margin:3em'>{message}</p>").encode()
        ctype = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", ctype), (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
