# syntax=docker/dockerfile:1
# The Symbolon server as a container image: a release build in the Rust image,
# then only the binary on Debian slim, run as an unprivileged user.
#
#   docker build -t symbolon .
#   docker run -d -p 7878:7878 -v symbolon-data:/var/lib/symbolon --stop-timeout 30 \
#     -e SYMBOLON_PUBLIC_URL=https://exchange.example.org symbolon
#
# A stop takes drain_delay (5 s) + shutdown_grace (10 s) at most: give it --stop-timeout 30
# (compose: stop_grace_period: 30s); Docker's default 10 s would cut requests in flight.
# /metrics is on the main port unless SYMBOLON_METRICS_LISTEN names another (e.g. 0.0.0.0:9090,
# published only to the monitoring network).
#
# The base images are arguments so that a mirror (or a local image) can stand in.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p symbolon-cli \
 && install -D -m 0755 target/release/symbolon /out/symbolon

FROM ${RUNTIME_IMAGE} AS runtime
# A fixed, unprivileged uid/gid, so that a mounted volume's owner is predictable.
RUN groupadd --system --gid 10001 symbolon \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/symbolon \
      --no-create-home --shell /usr/sbin/nologin symbolon \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/symbolon
COPY --from=build /out/symbolon /usr/local/bin/symbolon
USER 10001:10001
ENV SYMBOLON_LISTEN=0.0.0.0:7878 \
    SYMBOLON_DATA_DIR=/var/lib/symbolon \
    SYMBOLON_LOG=info
VOLUME ["/var/lib/symbolon"]
EXPOSE 7878
# Readiness: the store answers, migrations ran, the engine is synced, not draining.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/symbolon", "healthcheck"]
# SIGTERM drains: /readyz fails first, in-flight requests finish within shutdown_grace.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/symbolon"]
CMD ["serve"]
