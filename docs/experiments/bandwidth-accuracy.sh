#!/usr/bin/env bash
# Bandwidth accuracy (docs/benchmarks.md): a policed VM and a polling container, each offered twice its allocation for one virtual second.
set -euo pipefail
cli=${NICBYPASS:-"dotnet run -c Release --project src/NicBypass.Cli --"}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '| allocation | VNIC | frame bytes | received | delivered | delivered bytes | ratio |\n|---|---|---|---|---|---|---|\n'
for row in "64K 64000 64" "1M 1000000 64" "100M 100000000 1000" "1G 1000000000 1000" "10G 10000000000 9000" "40G 40000000000 9000"; do
  set -- $row
  cat > "$dir/bw.nicdsl" <<EOF
host bw {
    nic e0 { model simnic-100g; rx-rings 2; mtu 9000 }
    vm vm on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; bandwidth $1 }
    container container on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2; protocols udp; ports 9; bandwidth $1; mode polling }
}
EOF
  $cli simulate "$dir/bw.nicdsl" --seconds 1 --mix unicast --frame-size "$3" --format json > "$dir/out.json"
  python3 - "$dir/out.json" "$1" "$2" "$3" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
allocation, rate, frame = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for v in report["nics"][0]["vnics"]:
    kind = "vm (policed)" if v["name"] == "vm" else "container (VNS, polling)"
    print(f'| {allocation} | {kind} | {frame} | {v["received"]:,} | {v["delivered"]:,} | {v["deliveredBytes"]:,} | {v["deliveredBytes"] * 8 / rate:.5f} |')
PY
done
