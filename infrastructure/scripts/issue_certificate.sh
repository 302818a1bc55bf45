#!/usr/bin/env bash
# Gets the Let's Encrypt certificate for the domain nginx serves and points nginx at it.
#
#   busysync-certificate DOMAIN EMAIL
#
# Installed by cloud-init as /usr/local/sbin/busysync-certificate. Cloud-init runs it once, and
# cron every 15 minutes until the certificate exists: at first boot the DNS record often does
# not point at the new IP yet, and certbot then fails. Four attempts an hour stay under Let's
# Encrypt's limit of five failed validations per hour.
#
# nginx reads the certificate through the symlink /etc/ssl/busysync/live. Until certbot has
# succeeded it points at a self-signed placeholder, so nginx can start and answer the ACME
# challenge on port 80; certbot's deploy hook then points it at the real lineage. certbot stores
# that hook with the webroot settings, so the renewals of certbot.timer reuse both.
set -euo pipefail

domain="${1:?usage: busysync-certificate DOMAIN EMAIL}"
email="${2:?usage: busysync-certificate DOMAIN EMAIL}"
tls_dir=/etc/ssl/busysync
lineage="/etc/letsencrypt/live/$domain"
webroot=/var/www/certbot

if [ -e "$lineage/fullchain.pem" ]; then
  if [ "$(readlink "$tls_dir/live" || true)" != "$lineage" ]; then
    ln -sfn "$lineage" "$tls_dir/live"
    systemctl reload nginx
  fi
  exit 0
fi

if [ ! -e "$tls_dir/live" ]; then
  install -d -m 0700 "$tls_dir/self-signed"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$domain" \
    -keyout "$tls_dir/self-signed/privkey.pem" -out "$tls_dir/self-signed/fullchain.pem" 2>/dev/null
  ln -sfn "$tls_dir/self-signed" "$tls_dir/live"
fi
install -d "$webroot"
nginx -t -q
systemctl reload-or-restart nginx

certbot certonly --webroot -w "$webroot" -d "$domain" \
  --email "$email" --agree-tos --no-eff-email --non-interactive \
  --deploy-hook "ln -sfn \"\$RENEWED_LINEAGE\" $tls_dir/live && systemctl reload nginx"
