# syntax=docker/dockerfile:1
# One image for every process of the Procfile: the gateway (the default CMD) and the
# consumers (`python -m consumers NAME ...`), as on a PaaS where every process type runs
# from one build. docs/deploy.md walks through it.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# The uv that pyproject.toml's [tool.uv] required-version names (uv refuses any other).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
# The image's own Python, never one uv would download; a venv at the path it keeps in
# the final stage (its scripts name their interpreter by absolute path).
ENV UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /src
# The locked dependencies first, in a layer of their own: a change to the code alone
# does not reinstall them. As scripts/setup.sh: --locked (a lock out of step with
# pyproject.toml is an error), and no group (dev and local stay out).
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-default-groups --no-install-project --no-editable
COPY README.md LICENSE ./
COPY shared/ shared/
COPY gateway/ gateway/
COPY consumers/ consumers/
COPY documents/ documents/
COPY cli/ cli/
# Not editable: the package (with its Lua scripts and static files) goes into the venv,
# and the final stage needs no source tree.
RUN uv sync --locked --no-default-groups --no-editable

FROM ${PYTHON_IMAGE}
# The Debian packages the Aptfile lists for Heroku's apt buildpack (tesseract-ocr: ingest
# reads lettering drawn as outlines with it), and tini to run as PID 1.
COPY Aptfile /tmp/Aptfile
RUN apt-get update \
    && sed -e 's/#.*//' /tmp/Aptfile | xargs apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* /tmp/Aptfile \
    && tesseract --list-langs | grep -qx eng
# A user of its own, by number too, so Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 sluice \
    && useradd --system --uid 10001 --gid sluice --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin sluice
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
# /app is on sys.path for both commands (uvicorn's --app-dir, python -m's working
# directory): an image built FROM this one adds FUNCTION_MODULES there.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000
USER 10001:10001
EXPOSE 8000
# tini -g passes SIGTERM to the whole process group, as a PaaS does: the consumer decides
# what its forkserver children do (they ignore it), and PID 1 reaps any orphan.
ENTRYPOINT ["tini", "-g", "--"]
# The Procfile's web line; a platform that sets PORT (Render, Heroku) wins over 8000.
CMD ["sh", "-c", "exec uvicorn gateway.app:app --host 0.0.0.0 --port \"${PORT:-8000}\" --no-access-log --http gateway.server:HttpProtocol"]
