"""Property-based fuzzing of every operation in the OpenAPI document: no input may produce a 5xx.

25 derandomized examples per operation, with a valid agent key (customer routes then answer 404 for the
fuzzed ids, which is what they must do).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from tests.api.helpers import AGENT_KEY

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25


def test_no_server_errors_on_any_operation(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would fail the test here, as it should
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {AGENT_KEY}"})
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
            # every rejection is JSON with a readable detail
            if 400 <= response.status_code < 500:
                assert isinstance(response.json().get("detail"), str), (case.method, case.path, response.text)

        check()
    assert operations >= 18
    assert server_errors == []
