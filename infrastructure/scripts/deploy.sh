#!/usr/bin/env bash
# Starts busysync on the server, or upgrades it, and waits until it reports healthy.
#
#   busysync-deploy              deploy what /etc/busysync/deploy.env and /opt/busysync/.env name
#   busysync-deploy VERSION      first switch to VERSION: an image reference in image mode
#                                (ghcr.io/OWNER/busysync:1.2.0), a git tag or commit in repo mode
#
# Installed by cloud-init as /usr/local/sbin/busysync-deploy, which also runs it on first boot.
# Image mode pulls the published image; repo mode checks the repository out into /opt/busysync
# and builds the image there. When busysync already runs, a backup is taken first: the new
# version migrates the store when it starts, and the backup is the way back.
set -euo pipefail

app_dir=/opt/busysync
settings=/etc/busysync/deploy.env
health_timeout_s=180

# shellcheck source=/dev/null
. "$settings"
mode="${BUSYSYNC_DEPLOY_MODE:?BUSYSYNC_DEPLOY_MODE missing in $settings}"
version="${1:-}"

compose() {
  docker compose -f "$app_dir/docker-compose.yml" "$@"
}

# Rewrites NAME=... in FILE (adding the line when missing) without touching the other lines.
set_setting() {
  local file="$1" name="$2" value="$3"
  if grep -q "^$name=" "$file"; then
    sed -i "s|^$name=.*|$name=$value|" "$file"
  else
    printf '%s=%s\n' "$name" "$value" >>"$file"
  fi
}

if [ -n "$(compose ps -q app 2>/dev/null)" ]; then
  /usr/local/sbin/busysync-backup
fi

case "$mode" in
  image)
    if [ -n "$version" ]; then set_setting "$app_dir/.env" BUSYSYNC_IMAGE "$version"; fi
    compose pull app
    compose up -d --no-build app
    ;;
  repo)
    if [ -n "$version" ]; then set_setting "$settings" BUSYSYNC_REPO_REF "$version"; fi
    # shellcheck source=/dev/null
    . "$settings"
    cd "$app_dir"
    # A checkout in place: .env and the compose file cloud-init wrote are already here, and
    # git leaves ignored files alone (the compose file is replaced by the repository's own).
    [ -d .git ] || git init -q
    git fetch -q --depth 1 "$BUSYSYNC_REPO_URL" "$BUSYSYNC_REPO_REF"
    git checkout -q -f FETCH_HEAD
    compose up -d --build app
    ;;
  *)
    echo "unknown BUSYSYNC_DEPLOY_MODE '$mode' (expected image or repo)" >&2
    exit 2
    ;;
esac

container="$(compose ps -q app)"
deadline=$((SECONDS + health_timeout_s))
while :; do
  status="$(docker inspect -f '{{.State.Health.Status}}' "$container")"
  if [ "$status" = healthy ]; then break; fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "busysync is $status after ${health_timeout_s}s; recent logs:" >&2
    compose logs --tail 50 app >&2
    exit 1
  fi
  sleep 3
done
echo "busysync is up"
