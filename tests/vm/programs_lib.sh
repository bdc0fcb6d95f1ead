# SPDX-License-Identifier: Apache-2.0
# What the kernel has of credgate's programs, through a bpftool that credgated registered (it is named
# in enforcement.ownerExecutables: no one else may read the programs). Sourced after lib.sh; the script
# sets $bpftool (that copy) and $w (its scratch directory).

# programs FILE: "name id tag" of every credgate program the kernel has, sorted by name (bpftool's
# names are cut at 15 characters by the kernel where it has no BTF name).
programs() {
  "$bpftool" -j prog show | /usr/bin/python3 -c 'import json,sys
for p in sorted(json.load(sys.stdin), key=lambda p: (p.get("name", ""), p["id"])):
    if p.get("name", "").startswith("credgate_"): print(p["name"], p["id"], p["tag"])' >"$1"
}
# tag_of FILE NAME: the tag of program NAME (or its 15-character kernel name) in FILE.
tag_of() { awk -v n="$2" '$1 == n || $1 == substr(n, 1, 15) {print $3}' "$1"; }
# linked_once FILE: the credgate programs the kernel has now are exactly those listed in FILE, each
# behind exactly one link: one program set is attached, once.
linked_once() {
  programs "$w/programs-now"
  "$bpftool" -j link show | /usr/bin/python3 -c 'import json,sys
want = sorted(int(l.split()[1]) for l in open(sys.argv[1]))
have = sorted(int(l.split()[1]) for l in open(sys.argv[2]))
links = [l.get("prog_id") for l in json.load(sys.stdin)]
sys.exit(0 if want and want == have and all(links.count(i) == 1 for i in want) else 1)' "$1" "$w/programs-now"
}
links_to() {  # links_to FILE: how many links point at the programs listed in FILE
  "$bpftool" -j link show | /usr/bin/python3 -c 'import json,sys
ids = {int(l.split()[1]) for l in open(sys.argv[1])}
print(sum(1 for l in json.load(sys.stdin) if l.get("prog_id") in ids))' "$1"
}
