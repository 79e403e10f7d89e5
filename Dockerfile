# wsrouter's container image.
#   make image        (tests/deploy/image/build.sh: local Debian base, then podman build)
#   make image-test   (tests/deploy/image/test.sh: the real container, probes, a client, SIGTERM)
#
# Stage 1 builds on Debian 12 with the packages scripts/setup.sh installs (the
# README's script) and runs the unit tests: an image is only made from a build
# whose tests pass. Stage 2 is bookworm-slim plus exactly the shared libraries
# the binary links (found by ldd in stage 1), so no compiler, headers or
# package of the build reach the image.

FROM debian:bookworm AS build
WORKDIR /src
# Alone first, so the package layer is reused while only the sources change.
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh --unit && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt config.yaml ./
COPY cmake cmake
COPY src src
# The demo page and browser client, embedded in the binary at build time.
COPY web web
COPY tests tests
COPY docs/configuration.md docs/configuration.md
ARG JOBS=2
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWSROUTER_BENCH=OFF \
 && cmake --build build -j "$JOBS" --target wsrouter unit_tests \
 && GTEST_BRIEF=1 build/unit_tests \
 && build/wsrouter --check-config config.yaml
# The Debian packages that own the libraries the binary loads: the runtime stage
# installs exactly these, so the list cannot drift from the build.
RUN set -e; mkdir -p /out; cp build/wsrouter config.yaml /out/; \
    for lib in $(ldd build/wsrouter | awk '$3 ~ /^\// { print $3 }'); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "/usr$lib"; \
    done | cut -d: -f1 | sort -u > /out/runtime-packages; \
    cat /out/runtime-packages

FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
# Upgraded as well, in case the base is older than the mirror (a no-op on a
# fresh base: tests/deploy/image/base.sh upgrades it).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /tmp/runtime-packages \
 && groupadd --gid 65532 wsrouter \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin wsrouter
COPY --from=build /out/wsrouter /usr/local/bin/wsrouter
COPY scripts/container-entrypoint.sh /usr/local/bin/wsrouter-entrypoint
# The documented defaults; the Helm chart mounts its ConfigMap over this directory.
COPY --from=build /out/config.yaml /etc/wsrouter/config.yaml
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080 9090
# No init: the entrypoint raises the soft descriptor limit and execs wsrouter,
# which is then PID 1; it handles SIGTERM and SIGINT itself (readiness off,
# drain, closes spread over a window, exit 0) and starts no child processes,
# so there are no zombies to reap.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/wsrouter-entrypoint"]
CMD ["--config", "/etc/wsrouter/config.yaml"]
