# alertbot in a container: the same install steps as the README's Quick start (scripts/setup.sh
# builds .venv from requirements.lock), on Debian bookworm's Python 3.11.
FROM python:3.11-slim-bookworm

WORKDIR /app
COPY . /app
RUN scripts/setup.sh && rm -rf /root/.cache

# SQLite under /app/data by default; mount a volume there, or set ALERTBOT_DATABASE to PostgreSQL.
VOLUME ["/app/data"]
EXPOSE 9093
ENV ALERTBOT_LISTEN=0.0.0.0:9093 \
    ALERTBOT_CONFIG=/app/routes.yaml

ENTRYPOINT ["/app/.venv/bin/alertbot"]
CMD ["serve"]
