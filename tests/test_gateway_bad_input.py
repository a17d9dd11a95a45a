"""Bad input is a 400 (JSON, schema, Idempotency-Key) or a 415 (content type): a JSON
error naming what is wrong, never a 5xx, and nothing queued. Asked of the app in this
process (tests/inprocess.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis
from structlog.testing import capture_logs

from tests.gateway_replies import JSON, assert_error, assert_nothing_queued
from tests.inprocess import server_errors

pytestmark = pytest.mark.any_redis


# 400


async def test_bad_json_is_400(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    bad = [b"{bad", b"", b" ", b'{"a": 1', b"{'a': 1}", b'{"a": NaN}', b'{"a": 1}x']
    # Invalid UTF-8, bare and inside a string or a key (msgspec raises UnicodeDecodeError).
    not_utf8 = [b"\xff\xfe", b'{"a": "\xff"}', b'{"\xc3": 1}']
    deep = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with capture_logs() as logs:
        for body in bad:
            reply = await gateway_http.post("/v1/jobs/echo", content=body, headers=JSON)
            assert_error(reply, 400, "invalid_input", "JSON")
        for body in not_utf8:
            reply = await gateway_http.post("/v1/jobs/echo", content=body, headers=JSON)
            assert_error(reply, 400, "invalid_input")
        reply = await gateway_http.post("/v1/jobs/echo", content=deep, headers=JSON)
        assert_error(reply, 400, "invalid_input", "nested")
    assert not server_errors(logs), logs
    assert_nothing_queued(sync_redis, namespace)


async def test_schema_violation_is_400_naming_the_field(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    cases = [
        ("work", b'{"seconds": "abc"}', "$.seconds"),
        ("work", b'{"seconds": 1e400}', "$.seconds"),
        ("work", b'{"succeed_on": 1.5}', "$.succeed_on"),
        ("work", b'{"effect_path": 5}', "$.effect_path"),
        ("hog", b"{}", "$.megabytes"),
        ("hog", b'{"megabytes": "many"}', "$.megabytes"),
        ("hog", b'{"megabytes": null}', "$.megabytes"),
    ]
    for function, body, field in cases:
        reply = await gateway_http.post(f"/v1/jobs/{function}", content=body, headers=JSON)
        error = assert_error(reply, 400, "invalid_input", field.removeprefix("$."))
        assert error["field"] == field, (function, body, error)
    # echo takes any JSON object, and only an object.
    for body, kind in ((b"[1, 2]", "array"), (b"5", "int"), (b'"text"', "str"), (b"null", "null")):
        reply = await gateway_http.post("/v1/jobs/echo", content=body, headers=JSON)
        assert_error(reply, 400, "invalid_input", "object", kind)
    assert_nothing_queued(sync_redis, namespace)


async def test_bad_idempotency_key_is_400(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    keys = [b"k" * 256, b"two words", b"tab\there", b"", "é".encode(), b"\xff"]
    for key in keys:
        reply = await gateway_http.post("/v1/jobs/echo", json={}, headers={b"Idempotency-Key": key})
        error = assert_error(reply, 400, "invalid_input", "Idempotency-Key")
        assert error["field"] == "Idempotency-Key"
    assert_nothing_queued(sync_redis, namespace)


# 415


async def test_wrong_content_type_is_415(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": b"{}", "headers": {"content-type": "text/plain"}}, "text/plain"),
        ({"data": {"seconds": "1"}}, "application/x-www-form-urlencoded"),
        ({"content": b"{}"}, "no content type"),
        ({"content": b"{}", "headers": {"content-type": ""}}, "no content type"),
        ({"content": b"<a/>", "headers": {"content-type": "application/xml"}}, "application/xml"),
        ({"content": b"{}", "headers": {"content-type": "application/jsonx"}}, "jsonx"),
    ]
    for request, named in cases:
        reply = await gateway_http.post("/v1/jobs/work", **request)
        error = assert_error(reply, 415, "unsupported_media_type", named)
        assert "application/json" in error["accepted"]
    assert_nothing_queued(sync_redis, namespace)
    # Parameters and case do not matter.
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        reply = await gateway_http.post(
            "/v1/jobs/echo", content=b"{}", headers={"content-type": content_type}
        )
        assert reply.status_code == 202, reply.text
