# syntax=docker/dockerfile:1
# A small image that runs `broadcaster serve`: the HTTP API and the dispatcher.
# Build: docker build -t practice-broadcaster .
# Run:   docker run -p 8080:8080 -v broadcaster-data:/data practice-broadcaster

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY broadcaster ./broadcaster
COPY channels ./channels
COPY runbooks ./runbooks
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 broadcaster \
    && mkdir /data && chown broadcaster /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER broadcaster
WORKDIR /data
# Embedded defaults: SQLite in the /data volume and the shipped example practices (which only
# write to /data/outbox). Mount your directory and secrets, and point these at them:
#   BROADCASTER_DIRECTORY=/config/practices.yaml, secrets in /run/secrets (e.g. secrets__fb_y00001).
ENV BROADCASTER_DATABASE_URL=sqlite+aiosqlite:////data/broadcaster.db \
    BROADCASTER_OUTBOX_DIR=/data/outbox \
    BROADCASTER_HOST=0.0.0.0 \
    BROADCASTER_PORT=8080 \
    BROADCASTER_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["broadcaster"]
CMD ["serve"]
