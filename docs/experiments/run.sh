#!/usr/bin/env bash
# Regenerates the tables of docs/experiments.md: bash docs/experiments/run.sh (from the repository root).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release src/NicBypass.Cli >/dev/null
cli() { dotnet src/NicBypass.Cli/bin/Release/net10.0/nicbypass.dll "$@"; }
here=docs/experiments
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

echo "## Link truth (1G NIC offered 5G)"
echo "| offered | carried | wire dropped | carried rate (frame + 24 B) |"
echo "|---:|---:|---:|---:|"
cli simulate $here/link-truth.nicdsl --seconds 1 --mix unicast --offer a=3G --offer b=2G --format json \
  | field '"| {:,} | {:,} | {:,} | {:.4f} Gbit/s |".format(d["nics"][0]["wire"]["offered"], d["nics"][0]["wire"]["carried"], d["nics"][0]["wire"]["dropped"], d["nics"][0]["wire"]["carried"]*1024*8/1e9)'

echo
echo "## Dynamic polling vs interrupts only (one VM, one processor, 64-byte frames, default costs)"
echo "| offered (Mpps) | delivered, dynamic polling (Mpps) | interrupts per frame | delivered, interrupts only (Mpps) | interrupts per frame |"
echo "|---:|---:|---:|---:|---:|"
for mpps in 1 2 4 6 8 10 12 14 16 20 24; do
  rate=$(python3 -c "print(f'{$mpps*64*8/1000:.3f}G')")
  row=""
  for mode in "" "--interrupts-only"; do
    out=$(cli simulate $here/one-processor.nicdsl --seconds 0.01 --mix unicast --frame-size 64 --rate $rate $mode --format json)
    row="$row$(echo "$out" | field '"{:.2f} | {:.3f}".format(d["nics"][0]["vnics"][0]["delivered"]/0.01/1e6, d["cpus"][0]["hardwareInterrupts"]/max(1,d["nics"][0]["vnics"][0]["delivered"]))') | "
  done
  echo "| $mpps | $row"
done

echo
echo "## Noisy neighbour (noisy offered 20 Mpps of 64-byte frames, quiet 100 Mbit/s)"
echo "| placement | quiet delivered / offered | noisy delivered (Mpps) | cpu0 busy | cpu1 busy |"
echo "|---|---:|---:|---:|---:|"
for topology in neighbours-dedicated neighbours-shared; do
  cli simulate $here/$topology.nicdsl --seconds 0.01 --mix unicast --frame-size 64 --offer noisy=10.24G --offer quiet=100M --format json \
    | field '"| '$topology' | {:.4f} | {:.2f} | {:.1%} | {:.1%} |".format(d["nics"][0]["vnics"][1]["delivered"]/max(1,d["nics"][0]["vnics"][1]["received"]), d["nics"][0]["vnics"][0]["delivered"]/0.01/1e6, d["cpus"][0]["busy"], d["cpus"][1]["busy"])'
done

echo
echo "## Bypass saves the host (four VMs, four processors, 64-byte frames, default costs)"
echo "| offered per VM (Mpps) | dedicated rings: delivered (Mpps) | host ns per frame | host-classified: delivered (Mpps) | host ns per frame | dedicated ÷ classified, host time per frame |"
echo "|---:|---:|---:|---:|---:|---:|"
for mpps in 0.1 0.5 1 5 10 20; do
  rate=$(python3 -c "print(f'{$mpps*64*8/1000:.4f}G')")
  row=""
  per=()
  for topology in bypass-dedicated bypass-host-classified; do
    out=$(cli simulate $here/$topology.nicdsl --seconds 0.01 --mix unicast --frame-size 64 --rate $rate --format json)
    cell=$(echo "$out" | field '"{:.2f} | {:.0f}".format(sum(v["delivered"] for v in d["nics"][0]["vnics"])/0.01/1e6, sum(c["busy"] for c in d["cpus"])*0.01e9/max(1,sum(v["delivered"] for v in d["nics"][0]["vnics"])))')
    row="$row$cell | "
    per+=("$(echo "$out" | field 'sum(c["busy"] for c in d["cpus"])*0.01e9/max(1,sum(v["delivered"] for v in d["nics"][0]["vnics"]))')")
  done
  echo "| $mpps | $row$(python3 -c "print(f'{${per[0]}/${per[1]}:.2f}')") |"
done

echo
echo "## Noisy neighbour: the quiet VM's latency (quiet offered 100 Mbit/s; noisy 1 Mbit/s, then 20 Mpps)"
echo "| placement | quiet p99, noisy idle (µs) | quiet p99, noisy flooding (µs) | flooded ÷ idle |"
echo "|---|---:|---:|---:|"
for topology in neighbours-dedicated neighbours-shared; do
  p=()
  for noisy in 1M 10.24G; do
    p+=("$(cli simulate $here/$topology.nicdsl --seconds 0.01 --mix unicast --frame-size 64 --offer noisy=$noisy --offer quiet=100M --format json | field 'd["nics"][0]["vnics"][1]["latencyMicroseconds"]["p99"]')")
  done
  echo "| $topology | ${p[0]} | ${p[1]} | $(python3 -c "print(f'{${p[1]}/${p[0]}:.1f}')") |"
done

echo
echo "## Interrupts only, with and without moderation (one container, one processor, 64-byte frames, 10 ms)"
echo "| offered (Mpps) | to its socket, none (Mpps) | interrupts per frame | 8 µs (Mpps) | interrupts per frame | adaptive (Mpps) | interrupts per frame |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for mpps in 0.5 1 2 4 8 16; do
  rate=$(python3 -c "print(f'{$mpps*64*8/1000:.4f}G')")
  row=""
  for moderation in 0 8 adaptive; do
    out=$(cli simulate $here/one-container.nicdsl --seconds 0.01 --mix unicast --frame-size 64 --rate $rate --interrupts-only --interrupt-moderation $moderation --format json)
    row="$row$(echo "$out" | field '"{:.2f} | {:.3f}".format(d["nics"][0]["vnics"][0]["stack"]["delivered"]/0.01/1e6, d["cpus"][0]["hardwareInterrupts"]/max(1,d["nics"][0]["vnics"][0]["delivered"]))') | "
  done
  echo "| $mpps | $row"
done
