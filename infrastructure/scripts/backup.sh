#!/usr/bin/env bash
# Writes a dump of busysync's KV store to BUSYSYNC_BACKUP_DIR (default /var/backups/busysync),
# gzip-compressed, and deletes dumps older than BUSYSYNC_BACKUP_KEEP_DAYS (default 14).
#
#   busysync-backup
#
# Installed by cloud-init as /usr/local/sbin/busysync-backup; cron runs it daily and
# busysync-deploy before every upgrade. `busysync backup` pauses the writers while it reads, so
# the dump is consistent. It streams to stdout because the runtime image has no shell to copy
# a file out with. Copy the dumps off the server too: they are only as safe as its disk.
set -euo pipefail

app_dir=/opt/busysync
backup_dir="${BUSYSYNC_BACKUP_DIR:-/var/backups/busysync}"
keep_days="${BUSYSYNC_BACKUP_KEEP_DAYS:-14}"

# Dumps hold the instance's secrets and the (encrypted) Google tokens: owner-only from the start.
umask 077
install -d -m 0700 "$backup_dir"

target="$backup_dir/busysync-$(date -u +%Y%m%dT%H%M%SZ).ndjson.gz"
trap 'rm -f "$target.partial"' EXIT

docker compose -f "$app_dir/docker-compose.yml" exec -T app /app/busysync backup - \
  | gzip -9 >"$target.partial"
mv "$target.partial" "$target"
echo "backup written to $target"

find "$backup_dir" -name 'busysync-*.ndjson.gz' -mtime +"$keep_days" -delete
