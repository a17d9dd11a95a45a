"""The deployment files (Dockerfile, compose.yaml, render.yaml, fly.toml,
deploy/kubernetes/, docs/deploy.md) agree with the Procfile and with shared/keys.py.

This machine has a docker client but no daemon, so the image is built and run only where
`docker info` answers; everywhere the files are parsed (YAML with PyYAML, TOML with
tomllib, the Dockerfile's instructions by hand) and checked against the Procfile.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML, pinned in uv.lock (dev); no stubs

from shared.keys import GROUP, keys_for

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"


def _procfile() -> dict[str, list[str]]:
    """Process type -> its command, split as a shell would."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = (line.partition(":") for line in lines if line.strip() and ":" in line)
    return {name.strip(): shlex.split(command) for name, _, command in entries}


PROCFILE = _procfile()
CONSUMERS = {name: command for name, command in PROCFILE.items() if name != "web"}


def _functions(command: list[str]) -> list[str]:
    """The function names of `python -m consumers NAME ... [--option ...]`."""
    names = command[command.index("consumers") + 1 :]
    return names[: next((i for i, arg in enumerate(names) if arg.startswith("-")), len(names))]


def _web(command: list[str]) -> list[str]:
    """A web command as the Procfile writes it: `sh -c 'exec ...'` unwrapped, and
    ${PORT:-8000} (the image's default) read as $PORT."""
    if command[:2] == ["sh", "-c"]:
        command = shlex.split(command[2])
    command = command[1:] if command[:1] == ["exec"] else command
    return ["$PORT" if arg in ("${PORT:-8000}", "${PORT}") else arg for arg in command]


def _yaml(path: Path) -> list[Any]:
    with path.open() as file:
        return [document for document in yaml.safe_load_all(file) if document is not None]


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = (line.strip() for line in text.splitlines())
    pairs = (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def test_the_procfile_has_web_and_consumers() -> None:
    assert "web" in PROCFILE and CONSUMERS
    for command in CONSUMERS.values():
        assert command[:3] == ["python", "-m", "consumers"] and _functions(command)


def test_the_dockerfile_builds_one_slim_non_root_image_from_the_lock() -> None:
    instructions = _dockerfile()
    args = dict(
        value.split("=", 1) for name, value in instructions if name == "ARG" and "=" in value
    )
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert all(value.split()[0] == "${PYTHON_IMAGE}" for n, value in instructions if n == "FROM")
    # The uv pyproject.toml requires (uv refuses to run the project with another).
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert args["UV_VERSION"] == pyproject["tool"]["uv"]["required-version"].removeprefix("==")
    syncs = [value for name, value in instructions if name == "RUN" and "uv sync" in value]
    assert syncs and all("--locked" in v and "--no-default-groups" in v for v in syncs)
    assert any(name == "COPY" and "uv.lock" in value.split() for name, value in instructions)

    final = _final_stage()
    # The Aptfile's packages are what the image installs.
    assert any(name == "COPY" and value.split()[0] == "Aptfile" for name, value in final)
    apt = " ".join(value for name, value in final if name == "RUN" and "apt-get install" in value)
    assert "Aptfile" in apt and "tini" in apt
    users = [value.strip() for name, value in final if name == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("0", "root")
    runs = " ".join(value for name, value in final if name == "RUN")
    assert re.search(rf"useradd .*--uid {user}\b", runs)

    # Exec form: a JSON array, which YAML reads too.
    commands = {n: yaml.safe_load(v) for n, v in final if n in ("CMD", "ENTRYPOINT")}
    assert commands["ENTRYPOINT"][0] == "tini"
    assert _web(commands["CMD"]) == PROCFILE["web"]
    assert "PORT=8000" in " ".join(value for name, value in final if name == "ENV")


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".local", "tests", ".env"):
        assert entry in ignored


def test_compose_runs_redis_with_aof_web_and_each_consumer_type() -> None:
    (compose,) = _yaml(ROOT / "compose.yaml")
    services = compose["services"]
    redis = services["redis"]
    assert redis["image"] == "redis:7"
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    volume = redis["volumes"][0].split(":")
    assert volume[1] == "/data" and volume[0] in compose["volumes"]

    web = services["web"]
    assert web["build"] == "." and "command" not in web  # the image's CMD: the web line
    assert web["ports"] == ["8000:8000"]
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert web["environment"]["SLUICE_ADMIN_KEY"].startswith("${SLUICE_ADMIN_KEY")
    for name, command in CONSUMERS.items():
        service = services[name]
        assert service["command"] == command
        assert service["image"] == web["image"]
        env = service["environment"]
        assert env["REDIS_URL"] == web["environment"]["REDIS_URL"]
        assert env["WEBHOOK_SECRET"] == web["environment"]["WEBHOOK_SECRET"]


def test_render_blueprint_has_key_value_web_and_a_worker_per_consumer_type() -> None:
    (blueprint,) = _yaml(ROOT / "render.yaml")
    services = {service["name"]: service for service in blueprint["services"]}
    (redis,) = [s for s in services.values() if s["type"] == "keyvalue"]
    assert redis["maxmemoryPolicy"] == "noeviction"
    (web,) = [s for s in services.values() if s["type"] == "web"]
    assert web["runtime"] == "docker" and "dockerCommand" not in web
    workers = [s for s in services.values() if s["type"] == "worker"]
    assert sorted(shlex.split(w["dockerCommand"]) for w in workers) == sorted(CONSUMERS.values())
    for service in (web, *workers):
        env = {var["key"]: var for var in service["envVars"] if "key" in var}
        assert env["REDIS_URL"]["fromService"]["name"] == redis["name"]
        assert "WEBHOOK_SECRET" in env
    web_env = {var["key"]: var for var in web["envVars"] if "key" in var}
    assert web_env["SLUICE_ADMIN_KEY"]["generateValue"] is True


def test_fly_has_a_process_group_per_process_type() -> None:
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    processes = {name: shlex.split(command) for name, command in fly["processes"].items()}
    assert set(processes) == set(PROCFILE)
    assert _web(processes["web"]) == PROCFILE["web"]
    for name, command in CONSUMERS.items():
        assert processes[name] == command
    assert fly["http_service"]["processes"] == ["web"]
    assert fly["http_service"]["internal_port"] == 8000
    assert fly["kill_timeout"] >= 30


def _manifests() -> list[dict[str, Any]]:
    return [document for path in sorted(KUBERNETES.glob("*.yaml")) for document in _yaml(path)]


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in _manifests() if m["kind"] == kind}


def test_kubernetes_manifests_run_web_and_a_deployment_per_consumer_type() -> None:
    manifests = _manifests()
    assert all("namespace" not in m.get("metadata", {}) for m in manifests)
    kustomization = next(m for m in manifests if m["kind"] == "Kustomization")
    for resource in kustomization["resources"]:
        assert (KUBERNETES / resource).is_file()
    deployments = _of_kind("Deployment")
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        (container,) = pod["containers"]
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"sluice-config", "sluice-secrets"}
    web = deployments["sluice-web"]["spec"]["template"]["spec"]["containers"][0]
    assert "args" not in web and "command" not in web  # the image's CMD: the web line
    assert _of_kind("Service")["sluice-web"]["spec"]["ports"][0]["targetPort"] == "http"
    for name, command in CONSUMERS.items():
        (container,) = deployments[f"sluice-{name}"]["spec"]["template"]["spec"]["containers"]
        assert container["args"] == command and "command" not in container
    assert "REDIS_ADDRESS" in _of_kind("ConfigMap")["sluice-config"]["data"]
    secret = _yaml(KUBERNETES / "secret.example.yaml")[0]
    assert {"REDIS_URL", "SLUICE_ADMIN_KEY", "WEBHOOK_SECRET"} <= set(secret["stringData"])


def test_keda_scales_each_consumer_by_lag_and_pending_entries_of_its_streams() -> None:
    scaled = _of_kind("ScaledObject")
    for name, command in CONSUMERS.items():
        spec = scaled[f"sluice-{name}"]["spec"]
        assert spec["scaleTargetRef"]["name"] == f"sluice-{name}"
        assert spec["minReplicaCount"] >= 1  # delayed jobs and chains need a consumer
        triggers = [t["metadata"] for t in spec["triggers"] if t["type"] == "redis-streams"]
        assert len(triggers) == len(spec["triggers"])
        for function in _functions(command):
            stream = keys_for("sluice", function).stream
            mine = [t for t in triggers if t["stream"] == stream]
            assert all(t["consumerGroup"] == GROUP == "workers" for t in mine)
            assert all(t["addressFromEnv"] == "REDIS_ADDRESS" for t in mine)
            lag = [t for t in mine if "lagCount" in t]
            assert lag and int(lag[0]["lagCount"]) > 0 and int(lag[0]["activationLagCount"]) >= 0
            pending = [t for t in mine if "pendingEntriesCount" in t]
            assert pending and "lagCount" not in pending[0]  # lagCount would take precedence
        assert {t["stream"] for t in triggers} == {
            keys_for("sluice", f).stream for f in _functions(command)
        }


def test_the_deploy_guide_walks_every_target_and_setting() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    headings = re.findall(r"^## (.+)$", guide, flags=re.MULTILINE)
    for target in ("Docker Compose", "Heroku", "Render", "Fly.io", "Kubernetes with KEDA"):
        assert target in headings
    for name in (
        "compose.yaml",
        "Procfile",
        "render.yaml",
        "fly.toml",
        "deploy/kubernetes/",
        "REDIS_URL",
        "SLUICE_API_KEYS",
        "SLUICE_ADMIN_KEY",
        "WEBHOOK_SECRET",
        "CALLBACK_ALLOW_PRIVATE",
        "VISIBILITY_TIMEOUT",
        "QUOTA_JOBS",
        "appendonly yes",
        "sluice_oldest_queued_seconds",
        "lagCount",
        "activationLagCount",
        "pendingEntriesCount",
    ):
        assert name in guide, name
    # WEBHOOK_SECRET must reach the consumers too: they sign the callbacks.
    assert re.search(r"`WEBHOOK_SECRET` \| web \*\*and\*\* consumers", guide)
    for process in PROCFILE:
        assert f"`{process}`" in guide


def _docker_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return False
    return info.returncode == 0


@pytest.mark.skipif(not _docker_runs(), reason="no Docker daemon here (docker info fails)")
def test_the_image_builds_and_runs_as_a_non_root_user() -> None:
    tag = f"sluice-test:{uuid.uuid4().hex[:12]}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
    try:
        uid = subprocess.run(
            ["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, check=True
        )
        assert uid.stdout.strip() != "0"
        imports = "import gateway.app, consumers.__main__, documents.functions; print('ok')"
        ok = subprocess.run(
            ["docker", "run", "--rm", tag, "python", "-c", imports],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert ok.stdout.strip() == "ok"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
