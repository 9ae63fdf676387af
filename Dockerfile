# syntax=docker/dockerfile:1
#
# One image for all six services of the TinyTroupe mesh; the command picks the service:
#   docker build -t tinytroupe-mesh .
#   docker run --rm -p 50051:50051 tinytroupe-mesh python -m services.control
# It runs as a fixed non-root user (10001:10001) and works with a read-only root filesystem:
# it writes only to /tmp and DATA_DIR (/data), which Kubernetes mounts as volumes.
# The generated gRPC stubs come from gen/python, which is committed (CI checks that it matches
# protos/), so the image needs no protoc. There is no embedded model: point LLM_BASE_URL at an
# OpenAI-compatible endpoint.

ARG PYTHON_VERSION=3.11

# ---- build: a virtual environment with the project and its pinned dependencies ----
FROM python:${PYTHON_VERSION}-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt

# Then the project itself (services/ and the generated stubs), compiled to bytecode now since the
# root filesystem is read-only at run time.
COPY services ./services
COPY gen/python ./gen/python
RUN pip install --no-cache-dir --no-deps . \
    && python -m compileall -q /opt/venv/lib \
    && python -I -c "import services.runtime.config"

# ---- runtime ----
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

ARG APP_UID=10001
ARG APP_GID=10001

LABEL org.opencontainers.image.title="tinytroupe-mesh" \
      org.opencontainers.image.description="gRPC microservice mesh that runs TinyTroupe-style persona simulations as a service" \
      org.opencontainers.image.licenses="MIT"

RUN groupadd --gid "${APP_GID}" troupe \
    && useradd --uid "${APP_UID}" --gid "${APP_GID}" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin troupe \
    && install -d -o "${APP_UID}" -g "${APP_GID}" -m 0750 /data

COPY --from=build /opt/venv /opt/venv

# HOME=/tmp: anything that caches under ~ writes to the /tmp volume, not the read-only root.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    LOG_FORMAT=json

WORKDIR /data
USER ${APP_UID}:${APP_GID}

# gRPC 50050-50055 (orchestrator, control, population, simulation, content, extraction) and
# their Prometheus /metrics on the same port + 1000.
EXPOSE 50050-50055 51050-51055

CMD ["python", "-m", "services.orchestrator"]
