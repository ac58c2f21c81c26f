# Build with the official Swift image; build the SQLite under test from source;
# run on slim Debian with that SQLite where the binary loads it.
ARG SWIFT_VERSION=6.3

# The SQLite under test. SQLITE_SOURCE is anything scripts/fetch-sqlite takes:
# debian:SUITE[=VERSION], pypi:NAME==VERSION, or an amalgamation URL such as
# https://sqlite.org/2025/sqlite-amalgamation-3500400.zip; SQLITE_SHA3_256 is
# checked by scripts/build-sqlite (of the archive, or of a directory's
# sqlite3.c). The default is the newest release obtainable and verified here,
# with no known data-loss bug: Debian's 3.53.4 (the WAL bug of forum post
# b490f726db was fixed in 3.50.2, the WAL-reset bug in 3.51.3).
# SQLITE_COVERAGE=antithesis instruments it for Antithesis (clang
# -fsanitize-coverage=trace-pc-guard, linked with libvoidstar): put Antithesis's
# libvoidstar.so at docker/libvoidstar.so first.
FROM debian:bookworm AS sqlite
ARG SQLITE_SOURCE=debian:sid=3.53.4-2
ARG SQLITE_SHA3_256=38a308d63b9fd5fc402b3bb16b667720219cced2a06590ec6ed2339359022f95
ARG SQLITE_COVERAGE=none
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates curl dpkg-dev gcc libc6-dev make openssl python3-pip tcl unzip xz-utils \
    && if [ "$SQLITE_COVERAGE" = antithesis ]; then apt-get install -y --no-install-recommends clang; fi \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/fetch-sqlite scripts/build-sqlite scripts/
COPY docker/ docker/
RUN source=$(scripts/fetch-sqlite "$SQLITE_SOURCE" /tmp/sqlite-source) \
    && coverage="" \
    && if [ "$SQLITE_COVERAGE" = antithesis ]; then coverage="--coverage antithesis --voidstar docker/libvoidstar.so"; fi \
    && scripts/build-sqlite ${SQLITE_SHA3_256:+--sha3-256 "$SQLITE_SHA3_256"} $coverage "$source" /sqlite

FROM swift:${SWIFT_VERSION}-bookworm AS build
# The binding compiles against Debian's sqlite3.h; at run time it loads the SQLite built above.
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
COPY --from=sqlite /sqlite /sqlite
RUN swift build -c release --product sqlite-stress --static-swift-stdlib \
    && scripts/install-layout /install .build/release/sqlite-stress /sqlite

FROM debian:bookworm-slim
# The same layout scripts/install-layout makes in the tests: binary on PATH,
# templates under /opt/antithesis/test/v1/, the SQLite under test in
# /usr/local/lib (and no Debian SQLite package: that library is the only one).
COPY --from=build /install/ /
ARG SQLITE_COVERAGE=none
# The binary must load the SQLite built above (an instrumented one only runs inside Antithesis).
RUN ldconfig && if [ "$SQLITE_COVERAGE" != antithesis ]; then \
        sqlite-stress --version | grep -q 'from /usr/local/lib/libsqlite3.so.0'; fi
ENV SQLITE_STRESS_DB=/data/stress.db
VOLUME /data
ENTRYPOINT ["/usr/local/bin/sqlite-stress-entrypoint"]
CMD ["sleep", "infinity"]
