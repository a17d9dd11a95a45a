"""The OpenAPI document (`/openapi.json`) and the docs page (`/docs`): a valid OpenAPI 3.1
document naming every route, each function's input schema as its request body, and the
gateway answering as it says (fuzzed with schemathesis: no 5xx, every reply as documented)."""

from __future__ import annotations

import importlib.metadata
import itertools
import re
from collections.abc import Callable
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from openapi_spec_validator import OpenAPIV31SpecValidator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from gateway.app import create_app
from shared.functions import load_functions
from shared.settings import Settings
from shared.uploads import DOCUMENT_TYPES
from tests.inprocess import asgi_client

pytestmark = pytest.mark.any_redis

ADMIN = "admin-secret-for-openapi"
ACME = "acme-key-for-openapi"
# Examples per operation: some 45 operations in all, so the fuzzing stays within seconds.
EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def fetch_document(settings: Settings, **headers: str) -> dict[str, Any]:
    async with asgi_client(settings) as http:
        reply = await http.get("/openapi.json", headers=headers)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def expand(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by what it names (``root``'s)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            target: Any = root
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return {**expand(target, root, (*seen, ref)), **expand(rest, root, seen)}
        return {key: expand(value, root, seen) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [expand(item, root, seen) for item in node]
    return node


async def test_the_document_is_valid_openapi_3_1(settings: Settings) -> None:
    document = await fetch_document(settings)
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["version"] == importlib.metadata.version("sluice")
    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/healthz"]["get"]["security"] == []
    assert "security" not in document["paths"]["/v1/functions"]["get"]


async def test_every_route_of_the_app_is_in_the_document(settings: Settings) -> None:
    document = await fetch_document(settings)
    functions = load_functions(settings.function_modules)
    # The dashboard's HTML pages are not part of the API.
    routes = [
        route
        for route in create_app(settings).routes
        if isinstance(route, Route) and not route.path.startswith("/dashboard")
    ]
    expected = set()
    for route in routes:
        for method in (route.methods or set()) - {"HEAD"}:
            if not route.path.startswith("/v1/jobs/{function}"):
                # Submission paths are one per function; others keep {function} a parameter.
                expected.add((route.path, method.lower()))
                continue
            for name, spec in functions.items():
                if not (route.path.endswith("/batch") and spec.takes_document):
                    expected.add((route.path.replace("{function}", name), method.lower()))
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == expected
    # Every error status an operation lists has the error body, its types that status's.
    for path, method in documented:
        for status, reply in document["paths"][path][method]["responses"].items():
            if int(status) >= 400:
                schema = reply["content"]["application/json"]["schema"]
                assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}


async def test_each_function_input_schema_is_its_request_body(settings: Settings) -> None:
    document = await fetch_document(settings)
    functions = load_functions(settings.function_modules)
    for name, spec in functions.items():
        expected = expand(spec.json_schema(), spec.json_schema())
        content = document["paths"][f"/v1/jobs/{name}"]["post"]["requestBody"]["content"]
        if spec.takes_document:
            assert set(content) == {"multipart/form-data", *DOCUMENT_TYPES}
            params = content["multipart/form-data"]["schema"]["properties"]["params"]
            assert expand(params, document) == {**expected, "description": "the input, as JSON"}
        else:
            assert set(content) == {"application/json"}
            assert expand(content["application/json"]["schema"], document) == expected
            batch = document["paths"][f"/v1/jobs/{name}/batch"]["post"]["requestBody"]["content"]
            assert expand(batch["application/json"]["schema"], document)["items"] == expected


async def test_the_docs_page_loads_only_the_gateways_own_files(settings: Settings) -> None:
    async with asgi_client(settings) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe" not in policy and "http" not in policy
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(assets) == 3 and all(asset.startswith("/docs/") for asset in assets)
        assert "<script>" not in page.text and "style=" not in page.text
        for asset in assets:
            reply = await http.get(asset)
            assert reply.status_code == 200, asset
            assert reply.headers["x-content-type-options"] == "nosniff"
        assert "/openapi.json" in (await http.get("/docs/docs.js")).text
        for other in ("/docs/README.md", "/docs/LICENSE", "/docs/..%2Fdocs.py"):
            assert (await http.get(other)).json()["error"]["type"] == "not_found"


async def test_the_document_and_the_docs_want_a_read_key(settings: Settings) -> None:
    keyed = settings.replace(api_keys=(("acme", ACME),), admin_key=ADMIN)
    async with asgi_client(keyed) as http:
        made = await http.post(
            "/v1/admin/keys", json={"tenant": "acme", "scopes": ["submit"]}, headers=bearer(ADMIN)
        )
        submit_only = made.json()["key"]
        for path in ("/openapi.json", "/docs", "/docs/docs.js"):
            assert (await http.get(path)).status_code == 401
            assert (await http.get(path, headers=bearer(submit_only))).status_code == 403
            assert (await http.get(path, headers=bearer(ACME))).status_code == 200


def fuzz(base_url: str, headers: dict[str, str]) -> int:
    """Every operation of the gateway's own document, EXAMPLES generated requests each
    (valid, then invalid), every reply checked; the number of requests sent."""
    document = httpx.get(f"{base_url}/openapi.json", headers=headers).json()
    schema = schemathesis.openapi.from_dict(document)
    sent = 0
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    # Valid requests, and requests each breaking the document somewhere (which must be
    # refused with a documented 4xx, never a 5xx).
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    for operation, mode in itertools.product(operations, modes):

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy(mode))
        def check(case: schemathesis.Case[Any]) -> None:
            nonlocal sent
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
            sent += 1

        try:
            check()
        except hypothesis.errors.Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise  # else: nothing of this operation can be invalid (GET /healthz)
    return sent


def test_the_gateway_answers_as_its_document_says(start_gateway: Callable[..., str]) -> None:
    """With the admin key every route is reached as on an open gateway (fuzzing both took
    twice the time and found nothing more)."""
    url = start_gateway(SLUICE_API_KEYS=f"acme={ACME}", SLUICE_ADMIN_KEY=ADMIN)
    assert fuzz(url, bearer(ADMIN)) >= 2 * 45
