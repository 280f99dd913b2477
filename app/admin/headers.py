"""Security headers, set in one place: those that fit the webhooks on every response, the
rest on the admin's pages (TwiML is read by Twilio, not a browser, and needs no CSP)."""

from __future__ import annotations

from flask import Flask, Response, request

# Only the admin's own scripts and styles: no inline code, no other origin, no framing.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
EVERYWHERE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
ADMIN = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
PREFIX = "/admin"


def everywhere(app: Flask) -> dict[str, str]:
    """The headers every response of `app` carries, a webhook's too."""
    found = dict(EVERYWHERE)
    if app.config["PUBLIC_BASE_URL"].startswith("https://"):
        found["Strict-Transport-Security"] = HSTS
    return found


def init_app(app: Flask) -> None:
    """Add the headers to every response the app sends (built once: the webhooks are hot)."""
    all_of_them = everywhere(app)

    def secure(response: Response) -> Response:
        response.headers.update(all_of_them)
        path = request.path
        if path == PREFIX or path.startswith(PREFIX + "/"):
            response.headers.update(ADMIN)
            if request.endpoint != "admin.static":
                # Pages and exports carry call data: no copy kept by a browser or a proxy.
                response.headers["Cache-Control"] = "no-store"
        return response

    app.after_request(secure)
