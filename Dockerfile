# One image for both processes: `node apps/api/dist/main.js` (the default) or `node apps/agent/dist/main.js`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/domain/package.json libs/domain/
COPY libs/contracts/package.json libs/contracts/
COPY libs/transport/package.json libs/transport/
COPY libs/config/package.json libs/config/
COPY libs/logging/package.json libs/logging/
COPY libs/embedded-postgres/package.json libs/embedded-postgres/
COPY libs/persistence/package.json libs/persistence/
COPY libs/testing/package.json libs/testing/
COPY migrations/package.json migrations/
COPY apps/api/package.json apps/api/
COPY apps/agent/package.json apps/agent/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -b && npm prune --omit=dev

FROM node:20-bookworm-slim
# qemu-img for the agent's qemu-img driver.
RUN apt-get update && apt-get install -y --no-install-recommends qemu-utils && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# The api binds loopback unless told: in a container, the published port reaches it only on every address.
ENV HOST=0.0.0.0
COPY --from=build /app /app
EXPOSE 3000
# Node itself, not npm, receives SIGTERM and shuts down gracefully (run with an init: `docker run --init`).
CMD ["node", "apps/api/dist/main.js"]
