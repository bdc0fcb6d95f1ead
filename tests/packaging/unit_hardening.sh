#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The installed credgated.service: `systemd-analyze verify` finds nothing to say about it (its man:
# pages resolve to the installed ones), `systemd-analyze security --offline=true` scores it no worse
# than the exposure it has now, and its capability bounding set is exactly the one its comments
# justify. Run on a `meson install --destdir` copy, ExecStart pointing into that copy (systemd is not
# PID 1 here; --offline needs no running manager), and ExecReload at its credgatectl.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

# The exposure systemd 252 gives the unit today (3.5 on its 0-10 scale, in tenths): it may only go down.
max_exposure=35
capabilities="CAP_BPF CAP_CHOWN CAP_DAC_READ_SEARCH CAP_FOWNER CAP_PERFMON CAP_SYSLOG CAP_SYS_ADMIN CAP_SYS_PTRACE"

meson=${CREDGATE_MESON:?} build=${CREDGATE_BUILD_ROOT:?}
sbindir=${CREDGATE_SBINDIR:?} bindir=${CREDGATE_BINDIR:?} unitdir=${CREDGATE_UNITDIR:?} mandir=${CREDGATE_MANDIR:?}
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (package systemd)"
command -v man >/dev/null || skip "man is not installed (package man-db): verify checks the man: links"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
stage=$scratch/stage
if ! "$meson" install -C "$build" --no-rebuild --tags runtime,man --destdir "$stage" >"$scratch/install.log" 2>&1; then
  failed "meson install --tags runtime,man: $(tail -n 3 "$scratch/install.log" | tr '\n' ' ')"
  finish
fi
installed=$stage$unitdir/credgated.service
[[ -f $installed ]] || { failed "no $unitdir/credgated.service installed"; finish; }

# The unit as installed, but starting the staged credgated (verify checks that ExecStart exists).
mkdir -p "$scratch/units"
unit=$scratch/units/credgated.service
sed -e "s|^ExecStart=$sbindir/credgated |ExecStart=$stage$sbindir/credgated |" \
  -e "s|^ExecReload=$bindir/credgatectl |ExecReload=$stage$bindir/credgatectl |" "$installed" >"$unit"
if grep -q "^ExecStart=$stage$sbindir/credgated " "$unit" && [[ -x $stage$sbindir/credgated ]]; then
  pass "the staged unit starts the staged credgated"
else failed "ExecStart of the installed unit is not $sbindir/credgated: $(grep ^ExecStart= "$installed")"; fi

out=$(cd "$scratch/units" && MANPATH=$stage$mandir systemd-analyze verify ./credgated.service 2>&1)
rc=$?
if [[ $rc == 0 && -z $out ]]; then pass "systemd-analyze verify: clean (Documentation= man pages found among the installed ones)"
else failed "systemd-analyze verify: exit $rc: $out"; fi

report=$(cd "$scratch/units" && systemd-analyze security --offline=true --no-pager ./credgated.service 2>&1)
echo "$report" | grep -v '^✓' | sed 's/^/  /'
exposure=$(echo "$report" | sed -n 's/.*Overall exposure level for credgated.service: \([0-9.]*\).*/\1/p')
(cd "$scratch/units" && systemd-analyze security --offline=true --threshold=$max_exposure ./credgated.service >/dev/null 2>&1)
rc=$?
if [[ $rc == 0 && -n $exposure ]]; then pass "systemd-analyze security: exposure $exposure, at most $((max_exposure / 10)).$((max_exposure % 10))"
else failed "systemd-analyze security: exposure '${exposure:-?}' is above $((max_exposure / 10)).$((max_exposure % 10)) (exit $rc)"; fi
# The threshold must be able to fail: one step below today's score does.
if ! (cd "$scratch/units" && systemd-analyze security --offline=true --threshold=$((max_exposure - 1)) ./credgated.service >/dev/null 2>&1); then
  pass "a threshold one step lower fails, so the bound is today's score and not a looser one"
else failed "the unit scores at most $(((max_exposure - 1) / 10)).$(((max_exposure - 1) % 10)) now: lower max_exposure to it"; fi

got=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | grep -v '^$' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
if [[ "$got" == "$capabilities" ]]; then pass "CapabilityBoundingSet is exactly $capabilities"
else failed "CapabilityBoundingSet is '$got', wanted '$capabilities'"; fi
finish
