#!/usr/bin/env bash
# Run the production guide (docs/user-guide/zh-Hans/README.md, chapter 11) in a throwaway Debian 12
# root and check the result: PostgreSQL, the venv through bin/xiezuo, check-deploy, nginx with
# HTTPS in front of `xiezuo serve` started as deploy/xiezuo.service says, and a clean stop.
#
#   sudo deploy/test-guide.sh [ROOT]        # ROOT: a folder to build in (default: a new one in /tmp)
#
# Needs: root, debootstrap (apt-get install debootstrap), the Debian mirror (DEBIAN_MIRROR, default
# deb.debian.org) and this machine's Python package index for `pip download` (the guide's offline
# install, 11.3). A ROOT that already holds a bootstrapped system (ROOT/.bootstrapped) is reused.
#
# Differences from the guide, because a chroot has no systemd and no terminal: the guide's
# interactive steps (createuser --pwprompt, sudoedit) are done with fixed values; the service runs
# the unit's ExecStart as its User with its EnvironmentFile, instead of `systemctl enable --now`;
# PostgreSQL and nginx are started with pg_ctlcluster and nginx; the services run in a network
# namespace of their own, so ports 80, 443, 5432 and 8001 of this machine are left alone.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${1:-$(mktemp -d /tmp/xiezuo-guide.XXXXXX)}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" = 0 ] || { echo "test-guide: run as root" >&2; exit 2; }
step() { printf '\n== %s\n' "$*" >&2; }

if [ ! -e "$root/.bootstrapped" ]; then
  step "a bare Debian 12 in $root"
  debootstrap --variant=minbase --include=sudo,ca-certificates,curl,openssl,adduser,procps \
    bookworm "$root" "$mirror"
  touch "$root/.bootstrapped"
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
for fs in proc sys dev dev/pts; do
  mountpoint -q "$root/$fs" && continue
  case "$fs" in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sys "$root/sys" ;;
    dev) mount --bind /dev "$root/dev" ;;
    dev/pts) mount --bind /dev/pts "$root/dev/pts" ;;
  esac
  mounted+=("$root/$fs")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No init system in a chroot: packages must not try to start their services.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 bash -euo pipefail -c "$1"; }

step "11.1 packages and the service account"
in_root 'export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv postgresql nginx git
id xiezuo >/dev/null 2>&1 || adduser --system --group --home /var/lib/xiezuo xiezuo
install -d -o xiezuo -g xiezuo -m 0750 /var/lib/xiezuo'

step "11.3 the program in /opt/xiezuo, installed offline (wheels and node_modules brought along)"
rm -rf "$root/opt/xiezuo"
mkdir -p "$root/opt/xiezuo"
git -C "$repo" archive HEAD | tar -x -C "$root/opt/xiezuo"
# the contents, also when node_modules is a link to another checkout
mkdir "$root/opt/xiezuo/node_modules"
cp -a "$repo/node_modules/." "$root/opt/xiezuo/node_modules/"
sha256sum "$repo/package-lock.json" | cut -c1-16 > "$root/opt/xiezuo/node_modules/.lock-hash"
wheels="${WHEELS:-$root/../xiezuo-guide-wheels}"
"$repo/.venv/bin/python" -m pip download -q --require-hashes -r "$repo/requirements.lock" -d "$wheels"
cp -a "$wheels" "$root/opt/xiezuo/wheels"
in_root 'cd /opt/xiezuo && env PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/xiezuo/wheels bin/xiezuo --version'

# The rest runs with the services up, in a network namespace of its own (loopback only).
cat > "$root/root/guide-services.sh" <<'GUIDE'
set -euo pipefail
step() { printf '\n== %s\n' "$*" >&2; }
password=guide-test-password-1
# as the Debian installer writes it; sudo looks the host name up
host="$(cat /proc/sys/kernel/hostname)"
grep -qw "$host" /etc/hosts || echo "127.0.1.1 $host" >> /etc/hosts

# Whatever happens, leave no service running behind.
serve=
stop_all() {
  [ -n "$serve" ] && kill -TERM "$serve" 2>/dev/null && wait "$serve" 2>/dev/null
  nginx -s stop 2>/dev/null || true
  pg_ctlcluster 15 main stop 2>/dev/null || true
}
trap stop_all EXIT

step "11.2 PostgreSQL: role and database"
pg_ctlcluster 15 main start
# a root reused from an earlier run: start from an empty database again
sudo -u postgres dropdb --if-exists xiezuo
sudo -u postgres dropuser --if-exists xiezuo
sudo -u postgres psql -q -c "CREATE ROLE xiezuo LOGIN PASSWORD '$password'"
sudo -u postgres createdb --owner=xiezuo --encoding=UTF8 --locale=C.UTF-8 --template=template0 xiezuo

step "11.4 environment variables from .env.example, keys generated"
install -d -m 0750 -o root -g xiezuo /etc/xiezuo
install -m 0640 -o root -g xiezuo /opt/xiezuo/.env.example /etc/xiezuo/xiezuo.env
key() { python3 -c "import secrets; print(secrets.token_hex(32))"; }
sed -i \
  -e "s|^SECRET_KEY=.*|SECRET_KEY=$(key)|" \
  -e "s|^XIEZUO_HMAC_KEY=.*|XIEZUO_HMAC_KEY=$(key)|" \
  -e "s|^XIEZUO_AES_KEY=.*|XIEZUO_AES_KEY=$(key)|" \
  -e "s|^DATABASE_URL=.*|DATABASE_URL=postgres://xiezuo:$password@localhost:5432/xiezuo|" \
  -e 's|^XIEZUO_MAP_APPROVAL=.*|XIEZUO_MAP_APPROVAL="审图号：GS(2024)0650号"|' \
  /etc/xiezuo/xiezuo.env
install -m 0755 /opt/xiezuo/deploy/xiezuo-command /usr/local/bin/xiezuo

step "11.5 tables and reference data"
sudo -u xiezuo xiezuo manage migrate -v 0
sudo -u xiezuo xiezuo codes load
sudo -u xiezuo xiezuo regions load
sudo -u xiezuo xiezuo pairings load

step "11.6 static files"
sudo -u xiezuo xiezuo manage collectstatic --noinput -v 0

step "11.7 check-deploy"
sudo -u xiezuo xiezuo check-deploy

step "11.8 the first accounts"
for who in "sysadmin system_admin" "secadmin security_admin" "auditor auditor"; do
  set -- $who
  echo "a-long-password-$1" | sudo -u xiezuo xiezuo users create "$1" --role "$2" --password-stdin
done

step "11.9 nginx with HTTPS (a self-signed certificate)"
install -d -m 0750 /etc/ssl/xiezuo
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=xiezuo.example.gov.cn \
  -keyout /etc/ssl/xiezuo/privkey.pem -out /etc/ssl/xiezuo/fullchain.pem 2>/dev/null
chmod 0600 /etc/ssl/xiezuo/privkey.pem
cp /opt/xiezuo/deploy/nginx-xiezuo.conf /etc/nginx/sites-available/xiezuo
ln -sf /etc/nginx/sites-available/xiezuo /etc/nginx/sites-enabled/xiezuo
rm -f /etc/nginx/sites-enabled/default
nginx -t
nginx

step "11.10 the service, as deploy/xiezuo.service runs it"
unit=/opt/xiezuo/deploy/xiezuo.service
user="$(sed -n 's/^User=//p' "$unit")"
envfile="$(sed -n 's/^EnvironmentFile=//p' "$unit")"
workdir="$(sed -n 's/^WorkingDirectory=//p' "$unit")"
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
(cd "$workdir" && set -a && . "$envfile" && set +a && exec setpriv --reuid="$user" --regid="$user" --init-groups $exec_start) \
  > /var/log/xiezuo-serve.log 2>&1 &
serve=$!
for _ in $(seq 120); do
  curl -s -o /dev/null http://127.0.0.1:8001/ && break
  sleep 0.5
done

step "HTTPS through nginx"
site=(--resolve xiezuo.example.gov.cn:443:127.0.0.1 --resolve xiezuo.example.gov.cn:80:127.0.0.1 -s)
fail() { echo "test-guide: FAILED: $*" >&2; cat /var/log/xiezuo-serve.log >&2; exit 1; }
head="$(curl "${site[@]}" -k -D - -o /tmp/login.html https://xiezuo.example.gov.cn/login/)"
echo "$head" | grep -q '^HTTP/2 200' || fail "login page: $head"
echo "$head" | grep -qi '^strict-transport-security: max-age=31536000; includeSubDomains' || fail "HSTS: $head"
grep -q '<html lang="zh-hans">' /tmp/login.html || fail "login page not in Chinese"
redirect="$(curl "${site[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' http://xiezuo.example.gov.cn/login/)"
[ "$redirect" = "301 https://xiezuo.example.gov.cn/login/" ] || fail "http redirect: $redirect"
css="$(grep -o '/static/xiezuo/site\.[0-9a-f]*\.css' /tmp/login.html | head -1)"
cache="$(curl "${site[@]}" -k -D - -o /dev/null "https://xiezuo.example.gov.cn$css" | tr -d '\r' | sed -n 's/^cache-control: //Ip')"
[ "$cache" = "max-age=315360000, public, immutable" ] || fail "static file $css: cache-control $cache"
ps -o pid,cmd --ppid "$serve" | grep -q 'gunicorn xiezuo.wsgi' || fail "no gunicorn under xiezuo serve"
ps -o pid,cmd --ppid "$serve" | grep -q 'xiezuo.cli worker' || fail "no worker under xiezuo serve"

step "stop (systemctl stop: SIGTERM to xiezuo serve)"
kill -TERM "$serve"
wait "$serve" || fail "xiezuo serve exited with $?"
serve=
if pgrep -u xiezuo >/dev/null; then fail "processes left: $(pgrep -a -u xiezuo)"; fi
echo "test-guide: the guide works (HTTPS login page, redirect, HSTS, cached static files, clean stop)" >&2
GUIDE
unshare --net bash -c "ip link set lo up && chroot '$root' /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  bash /root/guide-services.sh"
