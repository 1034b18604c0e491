# syntax=docker/dockerfile:1
#
# One image, two processes. The entrypoint is `dotnet`; the container's arguments pick the app:
#
#   docker run IMAGE                      -> edge (Gateway.Edge.dll, the default CMD), http://0.0.0.0:8080
#   docker run -e ASPNETCORE_URLS=http://0.0.0.0:8081 IMAGE Gateway.Silo.dll   -> silo
#
# In Kubernetes the StatefulSet sets `args: ["Gateway.Edge.dll"]` or `args: ["Gateway.Silo.dll"]` per container.
# The image runs as the non-root `app` user (UID 1654) and works with a read-only root filesystem:
# diagnostics IPC (which writes to /tmp) is off, and nothing else writes outside mounted volumes.

# Base images pinned by full version, SDK and runtime of one .NET release (SDK 10.0.401 ships runtime 10.0.12), so
# that a rebuild of the same commit gives the same image. To update: take the newest .NET 10 release from its
# release notes (monthly, on Patch Tuesday), set both ARGs to that release's SDK and runtime versions, build, and
# run scripts/test.sh; for a stricter pin append the digest (`mcr.microsoft.com/dotnet/aspnet:10.0.12@sha256:...`,
# from `docker buildx imagetools inspect`).
ARG SDK_VERSION=10.0.401
ARG ASPNET_VERSION=10.0.12

FROM mcr.microsoft.com/dotnet/sdk:${SDK_VERSION} AS build
WORKDIR /src

# Restore first, from the project files only, so that source edits do not invalidate the package layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Gateway.Grains/Gateway.Grains.csproj src/Gateway.Grains/
COPY src/Gateway.Hosting/Gateway.Hosting.csproj src/Gateway.Hosting/
COPY src/Gateway.Edge/Gateway.Edge.csproj src/Gateway.Edge/
COPY src/Gateway.Silo/Gateway.Silo.csproj src/Gateway.Silo/
RUN dotnet restore src/Gateway.Edge/Gateway.Edge.csproj \
 && dotnet restore src/Gateway.Silo/Gateway.Silo.csproj

COPY src/ src/
# Both apps share every dependency (central package pinning), so they publish side by side into one folder.
RUN dotnet publish src/Gateway.Edge/Gateway.Edge.csproj -c Release --no-restore -p:UseAppHost=false -o /app/publish \
 && dotnet publish src/Gateway.Silo/Gateway.Silo.csproj -c Release --no-restore -p:UseAppHost=false -o /app/publish

FROM mcr.microsoft.com/dotnet/aspnet:${ASPNET_VERSION} AS runtime
WORKDIR /app

# ASPNETCORE_HTTP_PORTS (set by the base image) is cleared so that ASPNETCORE_URLS alone decides the listener.
ENV ASPNETCORE_HTTP_PORTS= \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    GATEWAY_CONFIG=/app/config/gateway.yml \
    DOTNET_EnableDiagnostics=0 \
    DOTNET_NOLOGO=1

# Files are owned by root and only readable by the app user: the process cannot rewrite its own binaries.
COPY --from=build --chown=root:root /app/publish/ /app/
# The default configuration; Kubernetes mounts the ConfigMap over the /app/config directory.
COPY --chown=root:root config/gateway.yml /app/config/gateway.yml

# 8080 edge HTTP, 8082 edge management (/metrics, /admin/* when MANAGEMENT_URLS is set), 8081 silo HTTP (dashboard,
# health, metrics), 11111 silo-to-silo, 30000 Orleans gateway.
EXPOSE 8080 8082 8081 11111 30000

# The aspnet image's non-root `app` user (APP_UID=1654), numeric so that runAsNonRoot can verify it.
USER $APP_UID

ENTRYPOINT ["dotnet"]
CMD ["Gateway.Edge.dll"]
