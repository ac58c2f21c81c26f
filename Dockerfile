# Build with the official Swift image; run on slim Debian with the SQLite library.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --product sqlite-stress --static-swift-stdlib \
    && scripts/install-layout /install .build/release/sqlite-stress

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 \
    && rm -rf /var/lib/apt/lists/*
# The same layout scripts/install-layout makes in the tests: binary on PATH,
# templates under /opt/antithesis/test/v1/.
COPY --from=build /install/ /
ENV SQLITE_STRESS_DB=/data/stress.db
VOLUME /data
ENTRYPOINT ["/usr/local/bin/sqlite-stress-entrypoint"]
CMD ["sleep", "infinity"]
