#!/bin/sh
# Install edgereward as a systemd service on Raspberry Pi OS / Debian / Ubuntu / Jetson Linux.
#   sudo ./deploy/install.sh            (from an unpacked release or a built clone)
# Creates the `edgereward` user (in dialout), copies the app to /opt/edgereward, installs the
# production node dependencies, puts a config in /etc/edgereward, enables and starts the unit.
set -eu

PREFIX=/opt/edgereward
ETC=/etc/edgereward
SRC=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)"; exit 1; }
command -v systemctl >/dev/null || { echo "install.sh: systemd is required"; exit 1; }
command -v systemd-notify >/dev/null || { echo "install.sh: systemd-notify is missing (package systemd)"; exit 1; }

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "install.sh: Node.js >= 20 is required. On Debian/Raspberry Pi OS/Jetson:"
  echo "  curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs"
  exit 1
fi
case "$(uname -m)" in
  aarch64|arm64|x86_64) ;;
  *) echo "install.sh: $(uname -m) is not supported by onnxruntime-node (needs a 64-bit OS: arm64 or x64)"; exit 1 ;;
esac

if ! id edgereward >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/edgereward --no-create-home --shell /usr/sbin/nologin --user-group edgereward
fi
usermod -a -G dialout edgereward

[ -f "$SRC/dist/cli/main.js" ] || (cd "$SRC" && npm ci --ignore-scripts && npm run build)
install -d -m 0755 "$PREFIX"
for d in dist config models deploy docs package.json package-lock.json; do
  [ -e "$SRC/$d" ] && cp -a "$SRC/$d" "$PREFIX/"
done
# Production dependencies only; onnxruntime-node ships its CPU libraries (no CUDA download).
(cd "$PREFIX" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
chown -R root:root "$PREFIX"

install -d -m 0750 -o root -g edgereward "$ETC" "$ETC/trusted" "$ETC/tls"
if [ ! -f "$ETC/config.json" ]; then
  install -m 0640 -o root -g edgereward "$SRC/config/device.example.json" "$ETC/config.json"
  echo "install.sh: edit $ETC/config.json (device id, broker, serial port), put trusted keys in $ETC/trusted"
fi
[ -f "$ETC/environment" ] || install -m 0600 -o root -g root /dev/null "$ETC/environment"

install -m 0644 "$SRC/deploy/edgereward.service" /etc/systemd/system/edgereward.service
systemctl daemon-reload
# Validate before enabling: a bad config should fail here, not in a restart loop.
if ! EDGEREWARD_CONFIG="$ETC/config.json" runuser -u edgereward -- node "$PREFIX/dist/cli/main.js" config check; then
  echo "install.sh: fix $ETC/config.json, then: systemctl enable --now edgereward"
  exit 1
fi
systemctl enable --now edgereward
echo "install.sh: installed. Logs: journalctl -u edgereward -f   Metrics: curl -s 127.0.0.1:9464/metrics"
