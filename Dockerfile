# Build with the official Swift image; build the SQLite under test from source;
# run on slim Debian with that SQLite where the binary loads it.
#
# SWIFT_VERSION is the exact toolchain the tests run with. The official Swift
# images published swift:6.3.1-bookworm (Debian 12) with that release
# (docker-library/official-images, library/swift); they have moved on to later
# 6.3 patches since, so the floating "6.3-bookworm" would build with another
# compiler. A tag that does not exist stops the build at the pull ("manifest
# unknown"); an image whose compiler is not SWIFT_VERSION stops it at
# scripts/check-swift-version, in one sentence.
ARG SWIFT_VERSION=6.3.1

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
ARG SWIFT_VERSION
COPY scripts/check-swift-version /usr/local/bin/
RUN check-swift-version "$SWIFT_VERSION"
# The binding compiles against Debian's sqlite3.h; at run time it loads the SQLite built above.
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Package.resolved pins the exact dependency versions the tests ran with;
# --force-resolved-versions builds with those or fails, never re-resolves.
#
# Its revisions are the commit ids of the package source it was resolved
# against. This repository's was a local mirror whose commit ids differ from
# GitHub's for the same tags and the same files (swift-argument-parser 1.8.2:
# 436bde4b… here, 6a52f325… on GitHub). Against GitHub that pin cannot be
# checked out, and the step below says so; on such a machine, resolve once
# (`rm Package.resolved && swift package resolve`) and commit the new file.
RUN swift package --force-resolved-versions resolve \
    || { echo "error: Package.resolved pins revisions this package source does not have; see the comment above this step in the Dockerfile." >&2; exit 1; }
COPY --from=sqlite /sqlite /sqlite
# scripts/build-release is the one definition of the shipped build (bench/build uses it too).
RUN scripts/build-release \
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
