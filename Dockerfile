# syntax=docker/dockerfile:1
# aphub: build once, run anywhere with APHUB_DATABASE_URL pointing at PostgreSQL >= 15.
#
#   docker build -t aphub .
#   docker run -p 8000:8000 -e APHUB_DATABASE_URL=postgresql://aphub:...@db:5432/aphub \
#       -v aphub-data:/data aphub
#
# /data holds the token signing key (keep it across restarts, or every token is invalidated).

# --- builder: Python packages into a venv, GraphiQL's npm packages into node_modules ----------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# npm packages first: they change least often, so this layer is usually cached
COPY assets/package.json assets/package-lock.json assets/
RUN npm ci --prefix assets --omit=dev --no-audit --no-fund --loglevel=error

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .

# --- runtime: the venv, the migrations and the browser assets; nothing to build with ----------
FROM python:3.11-slim AS runtime

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APHUB_MIGRATIONS_DIR=/app/migrations \
    APHUB_ASSETS_DIR=/app/assets/node_modules \
    APHUB_DATA_DIR=/data

RUN groupadd --system --gid 10001 aphub \
    && useradd --system --uid 10001 --gid aphub --home-dir /app --no-create-home aphub \
    && mkdir -p /app /data \
    && chown aphub:aphub /data

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /build/assets/node_modules /app/assets/node_modules
COPY migrations /app/migrations
COPY alembic.ini /app/alembic.ini

USER aphub
VOLUME ["/data"]
EXPOSE 8000

# slim has no curl; urlopen raises on a non-2xx answer, so a 503 fails the check too
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["aphub", "serve", "--host", "0.0.0.0", "--port", "8000"]
