# syntax=docker/dockerfile:1
# One image for the worker, beat and web services (docker-compose.yml picks the command).

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services ./services
COPY workers ./workers
COPY feeds ./feeds
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin nam
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
WORKDIR /home/nam
ENV PYTHONUNBUFFERED=1 \
    NAMFEEDS_DATA_DIR=/home/nam/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["nam-feeds", "web", "--host", "0.0.0.0", "--port", "8080"]
