# lotgraph: the gateway (`lotgraph serve`, the default) and the reference plant (`lotgraph plant`) in one image.
# Build: docker build -t lotgraph .      Run: docker run -p 8000:8000 -e LOTGRAPH_ERP_URL=... lotgraph
# docs/operations.md has the whole story (compose, settings, health, metrics).

ARG PYTHON_VERSION=3.11

# -- build: install lotgraph and its dependencies (with the otel extra) into a virtual environment -------------------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/lotgraph
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY schema ./schema
COPY resolvers ./resolvers
COPY sources ./sources
COPY plant ./plant
RUN /opt/lotgraph/bin/pip install ".[otel]"

# -- runtime: the virtual environment only, run as an unprivileged user ---------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime
RUN groupadd --system --gid 10001 lotgraph \
    && useradd --system --uid 10001 --gid lotgraph --home-dir /var/lib/lotgraph --create-home lotgraph
COPY --from=build /opt/lotgraph /opt/lotgraph
ENV PATH=/opt/lotgraph/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LOTGRAPH_HOST=0.0.0.0 \
    LOTGRAPH_PORT=8000 \
    LOTGRAPH_DATA_DIR=/var/lib/lotgraph/gateway \
    LOTGRAPH_LOG_FORMAT=json
USER lotgraph
WORKDIR /var/lib/lotgraph
VOLUME ["/var/lib/lotgraph"]
EXPOSE 8000
# /healthz: the process answers. Readiness (/readyz: store, bus, sources) is for the load balancer to ask.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('LOTGRAPH_PORT', '8000') + '/healthz', timeout=2)"]
ENTRYPOINT ["lotgraph"]
CMD ["serve"]
