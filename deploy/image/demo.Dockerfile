# syntax=docker/dockerfile:1
# The zero-code demo's services (examples/demo/services) for Kubernetes, where the OpenTelemetry Operator injects
# the Node.js SDK (so the image contains no OpenTelemetry package). Build from the repository root:
#   docker build -f deploy/image/demo.Dockerfile -t ghcr.io/OWNER/skua-demo:0.1.0 .
# Run one service: docker run ghcr.io/OWNER/skua-demo:0.1.0 services/frontend.js
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: TypeScript -> CommonJS, one file per service; express stays a require() so that the injected
# auto-instrumentation can patch it
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund
COPY examples/demo/services ./examples/demo/services
RUN npx esbuild examples/demo/services/*.ts --bundle --platform=node --format=cjs --target=node20 \
      --external:express --outdir=/out/services \
 && node -e "const l=require('./package-lock.json');const v=l.packages['node_modules/express'].version;require('fs').writeFileSync('/out/package.json',JSON.stringify({name:'skua-demo',private:true,type:'commonjs',dependencies:{express:v}}))"

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production DEMO_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /out/ ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
USER 10001:10001
EXPOSE 8080 8081 8082 8083
ENTRYPOINT ["node"]
CMD ["services/frontend.js"]
