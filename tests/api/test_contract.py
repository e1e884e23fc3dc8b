"""The OpenAPI schema is a contract: Schemathesis generates requests from it
(valid and invalid, for every operation, plus stateful sequences) against a live
server, as an anonymous reader and as an approver with a token, and every check
must pass: no 5xx, every status and body as documented, valid requests
accepted, invalid ones refused. Settings: ``schemathesis.toml``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tests.helpers import (
    FIXTURES,
    ROOT,
    import_folders,
    make_user,
    restore_migration_data,
)

pytestmark = [pytest.mark.contract, pytest.mark.django_db(transaction=True)]

#: Examples per operation and phase: enough to find what a careless client
#: sends, bounded so the run stays a few minutes in CI.
MAX_EXAMPLES = os.environ.get("GLOSSARY_CONTRACT_EXAMPLES", "8")


@pytest.fixture
def served(live_server, settings):
    settings.GLOSSARY_ANON_THROTTLE_RATE = ""
    restore_migration_data()
    import_folders(FIXTURES)
    return live_server.url


def schemathesis(url: str, *headers: str) -> subprocess.CompletedProcess:
    # Every check runs (Schemathesis's default); schemathesis.toml sets how.
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "run",
        f"{url}/api/schema/",
        "--url",
        url,
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "20261129",
        "--no-color",
        *[arg for header in headers for arg in ("-H", header)],
    ]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def _summary(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-6000:] + result.stderr[-2000:]


def test_anonymous_readers_get_what_the_schema_promises(served):
    result = schemathesis(served)
    assert result.returncode == 0, _summary(result)
    assert "No issues found" in result.stdout or " passed" in result.stdout


def test_an_approver_gets_what_the_schema_promises(served):
    approver = make_user("contract-approver", "approvers", "editors")
    token, _ = Token.objects.get_or_create(user=approver)
    result = schemathesis(served, f"Authorization: Token {token.key}")
    assert result.returncode == 0, _summary(result)
