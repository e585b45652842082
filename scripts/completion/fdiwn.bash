# bash completion for fdiwn(1): subcommands, each one's options, the values
# of -s, --format, --mode and the other choices, and file names.
# (tests/completion/test_completion.sh checks every option of each
# subcommand's --help is offered here.)

_fdiwn_options() {
  case "$1" in
    upscale)
      echo "-h --help -i --input -o --output -s --scale --outscale --width --height" \
           "-r --recursive -f --format --quality --name -m --mode -x --tta --alpha --path" \
           "-w --weights -j --threads --metadata --side-by-side --max-memory --max-pixels" \
           "--overwrite --json --shard --frames --frame-count" ;;
    bench)
      echo "-h --help --hr --lr --set --baseline -s --scale -m --mode -x --tta -j --threads" \
           "--path --save-sr --crop-border --rgb --max-pixels --csv --json --table --speed" \
           "--efficiency --sizes --paths --repeat --shard --merge" ;;
    metrics)
      echo "-h --help --hr --set --sr -s --scale --crop-border --rgb --max-pixels --csv --json" \
           "--table" ;;
    info)
      echo "-h --help --json" ;;
  esac
}

_fdiwn() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
  local command="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      upscale | bench | metrics | info) command="${COMP_WORDS[i]}" && break ;;
    esac
  done
  if [[ -z "$command" ]]; then
    mapfile -t COMPREPLY < <(compgen -W "upscale bench metrics info -h --help -V --version \
                                         -v --verbose -q --quiet" -- "$cur")
    return
  fi
  local values=""
  case "$prev" in
    -s | --scale) values="2 3 4" ;;
    -f | --format) values="png jpg webp avif tiff bmp ppm pgm" ;;
    -m | --mode) values="auto whole chop" ;;
    --alpha) values="network bicubic" ;;
    --path) values="engine plain" ;;
    --metadata) values="keep strip" ;;
    --side-by-side) values="auto off" ;;
    --paths) values="plain engine plain,engine" ;;
    --baseline) values="bicubic bilinear nearest lanczos" ;;
    --table) values="text md latex" ;;
    -j | --threads | --quality | --outscale | --width | --height | --max-memory | \
      --max-pixels | --name | --shard | --crop-border | --sizes | --repeat | --frame-count)
      return ;;  # a value of the user's own
    -i | --input | -o | --output | --hr | --lr | --sr | --set | --save-sr | -w | --weights | \
      --csv | --merge)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      compopt -o filenames 2> /dev/null
      return ;;
    --json)
      # upscale's and info's --json is a flag; bench's and metrics' takes a file.
      if [[ "$command" == bench || "$command" == metrics ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2> /dev/null
        return
      fi ;;
  esac
  if [[ -n "$values" ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
  elif [[ "$cur" == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_fdiwn_options "$command")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    compopt -o filenames 2> /dev/null
  fi
}

complete -F _fdiwn fdiwn
