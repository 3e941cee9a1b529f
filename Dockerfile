# The worker as a background container (README, "Running in a container").
#
# Builds from any Debian-based Python image: the official one by default, another with
#   docker build --build-arg PYTHON_IMAGE=python:3.12-slim .
# The packages come from requirements.lock (written by `make lock`, hashes checked), so
# an image built today and one built next month hold the same versions. The product
# lives in its own virtual environment, /opt/venv, whatever the base image's layout.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
WORKDIR /src
# The locked packages first: this layer is reused until requirements.lock changes.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY worker ./worker
# The project itself, built with the locked setuptools. No index: pip may take nothing
# but what the lock installed, so a requirement of pyproject.toml that the lock misses
# stops the build here instead of fetching some other version.
RUN /opt/venv/bin/pip install --no-index --no-build-isolation ".[postgres]" \
 || { echo "requirements.lock does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
RUN /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin worker \
 && mkdir -p /app/data /app/feeds /app/seeds /app/config \
 && chown worker:worker /app/data /app/feeds
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config ./config
COPY seeds ./seeds
USER worker
EXPOSE 8080
# Named volumes start as copies of these folders, owned by the worker's user.
VOLUME ["/app/data", "/app/feeds"]
# Asks /healthz on the port the worker's settings give (WORKER_SERVER__PORT, the
# config file): 503 (a job keeps failing, the database is unreachable) is unhealthy,
# reported after two failed checks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=2 \
  CMD ["python", "-m", "worker.commands.healthcheck"]
# SIGTERM (docker stop) lets running jobs finish within the grace period.
STOPSIGNAL SIGTERM
CMD ["worker", "--log-format", "json", "run"]
