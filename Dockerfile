# The job image: the c360 CLI with production dependencies only. ADF starts it on the Container Apps job as
# `c360 job <name> --param k=v ... --run-date D --as-of D --load-id L` (the same command that runs locally).
#   docker build -t <registry>/c360:<version> .
#   docker run --rm <registry>/c360:<version> job --list
# TypeScript runs through tsx (a production dependency), so there is no build step.
FROM node:20-slim

ENV NODE_ENV=production \
    C360_HOME=/tmp/c360 \
    NPM_CONFIG_UPDATE_NOTIFIER=false

WORKDIR /app

# Dependencies first, for layer caching. @duckdb/node-api ships prebuilt glibc binaries, which node:20-slim (Debian) runs.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Sources (bin/, src/, schemas/, pipelines/, jobs/, snowflake/ ...); .dockerignore keeps tests, docs, infra and
# local data out.
COPY . .

# Scratch space (DuckDB spill, ADLS download cache) lives under C360_HOME on the container's ephemeral disk.
RUN mkdir -p /tmp/c360 && chown -R node:node /tmp/c360
USER node

ENTRYPOINT ["node", "bin/c360.mjs"]
CMD ["--help"]
