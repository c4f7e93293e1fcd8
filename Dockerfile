# orgform as a small container image: a static (musl) binary on an empty base.
#
#   docker build -t orgform .
#   docker run --rm -e ANTHROPIC_ADMIN_KEY -v "$PWD:/work" orgform plan -f org.yaml
#
# The build stage compiles with the repository's lock file (--locked); the final image holds
# only the binary (its TLS roots are built in). It runs as an unprivileged user, in /work
# (mount the repository holding the manifest there).
# This file is checked by crates/orgform/tests/dockerfile.rs; the image itself is not built
# by the project's CI (docs/ci.md, "Container image").

FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# On Alpine the host target is musl, whose binaries are statically linked.
RUN cargo build --release --locked --package orgform --bin orgform \
    && cp target/release/orgform /orgform \
    && /orgform --version

FROM scratch
COPY --from=build /orgform /usr/local/bin/orgform
USER 65534:65534
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/orgform"]
CMD ["--help"]
