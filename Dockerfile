# syntax=docker/dockerfile:1
# One image for the worker, beat and web services (docker-compose.yml picks the command).
# Python dependencies come from requirements.lock, every file checked against its hash; see
# the README ("Deploy with Docker Compose") for how to refresh the lock.

FROM python:3.12.8-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/nam-feeds
COPY requirements.lock /tmp/requirements.lock
RUN /opt/nam-feeds/bin/pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services ./services
COPY workers ./workers
COPY feeds ./feeds
COPY cli ./cli
# Dependencies are all in place from the lock: the project alone, nothing resolved again.
RUN /opt/nam-feeds/bin/pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.12.8-slim-bookworm
# /srv/feeds: the worker writes feed files there for nginx (the compose `feeds` volume,
# which takes this directory's owner when it is created)
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin nam \
    && install -d -o nam -g nam -m 0755 /srv/feeds
COPY --from=build /opt/nam-feeds /opt/nam-feeds
USER 10001
WORKDIR /home/nam
ENV PATH=/opt/nam-feeds/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NAMFEEDS_DATA_DIR=/home/nam/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["nam-feeds", "web", "--host", "0.0.0.0", "--port", "8080"]
