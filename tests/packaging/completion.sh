#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgatectl's bash completion knows exactly the subcommands and options `credgatectl --help` lists,
# and completes a subcommand, an option and an option's value the way a user types them.
# usage: completion.sh CREDGATECTL
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctl=${1:?credgatectl}
completion=${CREDGATE_SOURCE_ROOT:?}/packaging/credgatectl.bash-completion

# shellcheck source=/dev/null
source "$completion" || { failed "sourcing $completion"; finish; }

# The options a CLI11 --help lists, without -h/--help, one per line, sorted.
help_options() {
  "$ctl" "$@" --help | sed -n 's/^ \{1,\}\(-[^ ]*\).*/\1/p' | tr ',' '\n' | grep -vx -e -h -e --help | LC_ALL=C sort
}
words() { tr ' ' '\n' | grep -v '^$' | LC_ALL=C sort; }

subs=$("$ctl" --help | sed -n '/^Subcommands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | LC_ALL=C sort)
if [[ -n $subs && "$(_credgatectl_subcommands | words)" == "$subs" ]]; then
  pass "the completion offers exactly credgatectl's subcommands: $(echo $subs)"
else failed "subcommands: completion '$(_credgatectl_subcommands)', credgatectl --help '$(echo $subs)'"; fi

for sub in $subs; do
  want=$(help_options "$sub")
  got=$(_credgatectl_options "$sub" | words)
  if [[ "$got" == "$want" ]]; then pass "'$sub' completes exactly its options: $(echo $want)"
  else failed "'$sub' options: completion '$(echo $got)', credgatectl $sub --help '$(echo $want)'"; fi
done

# complete WORD...: what the completion offers for the last WORD (the one being typed).
complete_words() {
  COMP_WORDS=(credgatectl "$@")
  COMP_CWORD=${#COMP_WORDS[@]}
  COMP_CWORD=$((COMP_CWORD - 1))
  COMPREPLY=()
  _credgatectl
  printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
  local want=$1; shift
  local got
  got=$(complete_words "$@")
  if [[ "$got" == "$want" ]]; then pass "credgatectl $* <TAB> offers '$want'"
  else failed "credgatectl $* <TAB>: offered '$got', wanted '$want'"; fi
}
expect "status" st
expect "binding" get ''
expect "" get binding ''
expect "json yaml" get binding openai -o ''
expect "bao vault" issuer --cli ''
expect "--json" status --j
expect "json yaml" explain --pid 1 -o ''
expect "json" audit -o ''
expect "allow audit-deny deny" audit --verdict ''
expect "--follow" audit --fo
finish
