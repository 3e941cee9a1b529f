# A slim image of the worker: `docker compose up` runs it with volumes for data and feeds.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY config ./config
RUN pip install --no-cache-dir --prefix=/install ".[postgres]"

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 worker \
 && mkdir -p /app/data /app/feeds /app/seeds /app/config \
 && chown -R worker:worker /app
WORKDIR /app
COPY --chown=worker:worker config ./config
COPY --chown=worker:worker seeds ./seeds
USER worker
EXPOSE 8080
VOLUME ["/app/data", "/app/feeds"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
# SIGTERM (docker stop) lets running jobs finish within the grace period.
STOPSIGNAL SIGTERM
CMD ["worker", "--log-format", "json", "run"]
