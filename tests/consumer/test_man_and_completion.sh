#!/usr/bin/env bash
# The man page and the bash completion against the program itself:
#   test_man_and_completion.sh FDIWN MAN_PAGE COMPLETION_SCRIPT
# - `man -l` renders the page, with a section per subcommand, the exit
#   status, the environment and examples;
# - every option in each subcommand's --help is in the page and offered by
#   the completion (so neither can fall behind the program);
# - in an interactive bash, `complete -p fdiwn` names the function, and it
#   offers the subcommands for `fdiwn <TAB>`, 2 3 4 after -s and the
#   formats after --format.
set -euo pipefail
fdiwn="$1"
page="$2"
completion="$3"
fail() { echo "test_man_and_completion: $*" >&2; exit 1; }

rendered="$(MANWIDTH=100 man -l "$page" 2> /dev/null)" || fail "man -l cannot render $page"
for section in "UPSCALE COMMAND" "BENCH COMMAND" "METRICS COMMAND" "INFO COMMAND" \
               "EXIT STATUS" "ENVIRONMENT" "EXAMPLES"; do
  grep -q "^$section" <<< "$rendered" || fail "no section $section in the man page"
done

# shellcheck disable=SC1090
source "$completion"
for cmd in upscale bench metrics info; do
  offered=" $(_fdiwn_options "$cmd") "
  for option in $("$fdiwn" "$cmd" --help | grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z0-9-]*' |
                  tr ',' ' '); do
    grep -qe "$option" <<< "$rendered" || fail "$cmd $option is not in the man page"
    [[ "$offered" == *" $option "* ]] || fail "$cmd $option is not offered by the completion"
  done
done

complete_line() {  # the words typed so far, the last one being completed
  bash --norc -i -c "source '$completion'; complete -p fdiwn; COMP_WORDS=($*); \
                     COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); _fdiwn; echo \"\${COMPREPLY[*]}\"" \
       2> /dev/null
}
out="$(complete_line fdiwn "''")"
grep -q "^complete -F _fdiwn fdiwn$" <<< "$out" || fail "complete -p: $out"
[[ "$(tail -1 <<< "$out")" == "upscale bench metrics info "* ]] || fail "fdiwn <TAB>: $out"
[[ "$(complete_line fdiwn upscale -s "''" | tail -1)" == "2 3 4" ]] || fail "-s <TAB>"
[[ "$(complete_line fdiwn upscale --format w | tail -1)" == "webp" ]] || fail "--format w<TAB>"
[[ "$(complete_line fdiwn upscale --mo | tail -1)" == "--mode" ]] || fail "--mo<TAB>"
echo "test_man_and_completion: ok"
