# syntax=docker/dockerfile:1
#
# Two stages: the Deno image bundles the islands and compiles busysync into one binary; the
# runtime image holds only that binary on distroless (glibc, libgcc and CA certificates; no
# shell, no package manager), run as a non-root user with the KV store on the /data volume.
#
#   docker build -t busysync .
#   docker run -p 127.0.0.1:8000:8000 -v busysync-data:/data --env-file .env busysync
#
# Both bases are pinned by version and by the digest of their multi-arch index, so a re-pushed
# tag cannot change what gets built. To move to a newer base, bump the tag and take its digest
# from `docker buildx imagetools inspect <image>:<tag>`. The Deno tag matches package.json.

FROM denoland/deno:2.9.6@sha256:2014dc167ece617ef7e7ba40631ac2234c59e75ce693e7cc2dc2602b3c87859d AS build
WORKDIR /src
ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

# Dependencies get their own layer, so a source change does not download them again. --frozen
# fails the build when deno.lock does not match deno.json instead of resolving new versions;
# package.json is copied because the lock records it.
COPY deno.json deno.lock package.json ./
RUN deno install --frozen

COPY . .
# The tasks cannot take --frozen, so the module graphs of both entry points are checked against
# the lock first: an import the lock does not know fails here rather than being resolved anew.
RUN deno install --frozen --entrypoint cli.ts scripts/build_islands.ts \
 && deno task build \
 && deno task compile \
 && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:b0ae8e989418b458e0f25489bc3be523718938a2b70864cc0f6a00af1ddbd985 AS runtime
LABEL org.opencontainers.image.title="busysync" \
      org.opencontainers.image.description="Mirrors busy time between a person's Google calendars"

# An empty /data owned by the runtime user: a fresh named volume copies this ownership, so the
# non-root process can create the KV file in it.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /src/dist/busysync /app/busysync

# The OTEL_ settings traces need (README: "Traces"), so OTEL_DENO=true and an endpoint turn
# them on; without OTEL_DENO they do nothing.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    BUSYSYNC_KV=/data/busysync.kv \
    DENO_NO_UPDATE_CHECK=1 \
    OTEL_TRACES_SAMPLER=parentbased_always_off \
    OTEL_PROPAGATORS=none \
    OTEL_SERVICE_NAME=busysync

# 65532 is distroless's "nonroot"; numeric so that runtimes enforcing runAsNonRoot can verify it.
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8000

# The image has no curl or wget: the binary itself asks /healthz and exits 0 or 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/app/busysync", "healthcheck"]

ENTRYPOINT ["/app/busysync"]
CMD ["serve"]
