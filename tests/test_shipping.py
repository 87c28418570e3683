"""What ships: the App manifest asks for exactly what the bot uses, and the image runs the
service as a non-root user with a health check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_manifest_has_the_required_keys_permissions_and_events():
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["name"] == "ladder"
    assert manifest["url"].startswith("https://")
    assert manifest["hook_attributes"]["url"].endswith("/webhook")
    assert manifest["default_permissions"] == {
        "checks": "write",
        "pull_requests": "write",
        "contents": "read",
        "issues": "write",
        "metadata": "read",
    }
    assert set(manifest["default_events"]) == {
        "pull_request",
        "check_suite",
        "check_run",
        "issue_comment",
    }
    # The manifest flow takes it as JSON: it must survive the round trip.
    assert json.loads(json.dumps(manifest)) == manifest


def test_events_in_the_manifest_are_the_events_the_router_handles():
    from bot.routes import router

    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    source = (ROOT / "bot" / "routes.py").read_text()
    registered = set(re.findall(r'@router\.register\("(\w+)"', source))
    assert set(manifest["default_events"]) <= registered
    assert router is not None


def test_dockerfile_runs_ladder_serve_as_non_root_with_a_health_check():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]-slim", text, re.M)
    assert "apt-get install -y --no-install-recommends elixir" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user
    assert user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*?/healthz", text, re.M | re.S)
    assert 'ENTRYPOINT ["ladder"]' in text
    assert 'CMD ["serve"]' in text
    assert "EXPOSE 8080" in text
