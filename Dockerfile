# Builds the hub with PostgreSQL and MySQL support into a small runtime image.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends default-libmysqlclient-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --features mysql --bin switchboard

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libmariadb3 \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /app switchboard
WORKDIR /app
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
COPY config ./config
RUN mkdir -p /app/data && chown switchboard /app/data
USER switchboard
ENV DATA_DIR=/app/data BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=6s --retries=5 CMD ["switchboard", "health"]
CMD ["switchboard", "serve"]
