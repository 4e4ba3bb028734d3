"""The API against its own OpenAPI document (schemathesis): whatever a signed-in officer sends, no answer is a
server error, and every answer has a status, content type and body its document declares."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from flows.services import accounts
from flows.services.context import Services
from flows.web.app import create_app
from tests.web.conftest import NOW

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_api_keeps_to_its_openapi_document(workspace: Services, web_settings: object) -> None:
    app = create_app(workspace, web_settings, lambda: NOW)  # type: ignore[arg-type]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    account = accounts.authenticate(workspace, "a.jansen", "correct paard batterij niet", NOW)
    token, csrf = accounts.open_session(workspace, account, NOW)
    headers = {"Cookie": f"qc_session={token}", "X-CSRF-Token": csrf}
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == 4
    seen: set[int] = set()
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            seen.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

        check()
    assert {200, 404} <= seen  # signed in: answers and unknown practices, each kept to the document
