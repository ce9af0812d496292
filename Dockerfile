# One image for every mmsim service: `mmsim serve --service <name>` picks the part.
FROM node:20-bookworm-slim
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
ENTRYPOINT ["node", "packages/cli/bin/mmsim.js"]
