# Ladder GitHub App: `ladder serve` on port 8080.
# Debian's elixir runs the formatter helper (L0 syntax and L1 formatting); everything else is Python.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080

RUN apt-get update \
    && apt-get install -y --no-install-recommends elixir ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY checks ./checks
RUN pip install . && useradd --system --uid 10001 --home-dir /home/ladder --create-home ladder

USER ladder
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=2)" || exit 1

ENTRYPOINT ["ladder"]
CMD ["serve"]
