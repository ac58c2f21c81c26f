# Build with the official Swift image; run on slim Debian with the SQLite library.
#
# SWIFT_VERSION is the exact toolchain the tests run with. The official Swift
# images published swift:6.3.1-bookworm (Debian 12) with that release
# (docker-library/official-images, library/swift); they have moved on to later
# 6.3 patches since, so the floating "6.3-bookworm" would build with another
# compiler. A tag that does not exist stops the build at the pull ("manifest
# unknown"); an image whose compiler is not SWIFT_VERSION stops it at
# scripts/check-swift-version, in one sentence.
ARG SWIFT_VERSION=6.3.1
FROM swift:${SWIFT_VERSION}-bookworm AS build
ARG SWIFT_VERSION
COPY scripts/check-swift-version /usr/local/bin/
RUN check-swift-version "$SWIFT_VERSION"
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
RUN swift build -c release --force-resolved-versions --product sqlite-stress --static-swift-stdlib \
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
