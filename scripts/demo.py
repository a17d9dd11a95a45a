"""Submit a demo job over HTTP, as curl would, and print how it went."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any


def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def main(base: str) -> int:
    deadline = time.monotonic() + 60
    while True:
        try:
            if call("GET", f"{base}/readyz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            print("the gateway did not become ready", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(
        f"$ curl -X POST {base}/v1/jobs/echo -H 'Content-Type: application/json' "
        '-d \'{"hello": "sluice"}\''
    )
    status, submitted = call("POST", f"{base}/v1/jobs/echo", {"hello": "sluice"})
    print(status, json.dumps(submitted))
    if status != 202:
        return 1
    url = f"{base}{submitted['status_url']}"
    while True:
        status, job = call("GET", url)
        if job.get("status") in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    print(f"$ curl {url}")
    print(status, json.dumps(job, indent=2))
    if job.get("status") != "succeeded":
        print("the demo job did not succeed", file=sys.stderr)
        return 1
    print("demo job succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
