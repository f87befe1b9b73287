# One image for the server and the bench agent; docker-compose.yml picks the process.
FROM node:20-bookworm
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ libudev1 usbmuxd \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bench
COPY . .
# npm ci runs `prepare`: generates the Prisma clients and compiles dist/.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund
ENV BENCH_HOME=/var/lib/bench LOG_FORMAT=json
VOLUME ["/var/lib/bench"]
EXPOSE 8080
CMD ["node", "dist/apps/server/src/main.js"]
