"""What the browser tests share: the strict Content-Security-Policy our pages must run under,
axe-core's accessibility check, where screenshots go, and signing in through the login page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

# No inline script, no inline style, no eval.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STATIC = Path(settings.BASE_DIR) / "static"
AXE = STATIC / "vendor" / "axe-core-4.14.1.min.js"
BLOCKING = ("serious", "critical")


def screenshots_dir(tmp_path: Path) -> Path:
    """Where a test saves its screenshots: the test's own folder, or the one named by
    SAVE_SCREENSHOTS_TO (docs/screenshots, to refresh the docs' pictures)."""
    folder = Path(os.environ.get("SAVE_SCREENSHOTS_TO") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def blocking_violations(page: Any, live_server: Any) -> list[str]:
    """Run axe on the page as it is now; one line per serious or critical failure. axe is
    loaded from our own static files by URL, which the policy allows (an inline copy would be
    refused)."""
    page.add_script_tag(url=f"{live_server.url}{settings.STATIC_URL}{AXE.relative_to(STATIC)}")
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']} ({v['help']}) at {node['target']}: {node['html']}\n"
        f"    {' '.join(node['failureSummary'].split())}"
        for v in results["violations"]
        if v["impact"] in BLOCKING
        for node in v["nodes"]
    ]


def assert_accessible(page: Any, live_server: Any) -> None:
    """Fail with axe's findings if the page as it is now has a serious or critical one."""
    violations = blocking_violations(page, live_server)
    assert not violations, "\n".join(violations)


def serve_under_policy(page: Any) -> list[str]:
    """Serve every page `page` loads from now on under CSP; return the list that collects the
    browser's refusals and any script error (the test asserts it is empty at the end)."""
    refused: list[str] = []

    def with_policy(route: Any) -> None:
        # Redirects handed back as they come: the browser follows them itself, so after a POST
        # it lands on (and shows the URL of) the page it was sent to.
        response = route.fetch(max_redirects=0)
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": CSP}
        )

    page.route(
        lambda url: True,
        lambda route: (
            with_policy(route) if route.request.resource_type == "document" else route.continue_()
        ),
    )
    page.on(
        "console",
        lambda message: refused.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: refused.append(str(error)))
    return refused


def reload_under_policy(page: Any) -> None:
    """Load the page the browser is on again, under the policy. Playwright routes only the first
    request of a redirect chain, so a page reached by redirect (after every POST) came without
    it; reloaded, it is checked like any other. A message shown once (Django's messages) is
    gone after the reload: read it first."""
    page.reload()
    page.wait_for_load_state()


def sign_in(page: Any, live_server: Any, username: str, password: str, *, lands_on: str) -> None:
    """Sign in through the login page, as a person does (on it already, or going there), and
    wait for the page the user lands on."""
    if "/accounts/login/" not in page.url:
        page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{lands_on}")
