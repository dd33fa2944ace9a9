# Helpers the side-by-side bench scripts share. Source it: . "$here/lib.sh"

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# has LIST ITEM: whether the comma list LIST holds ITEM.
has() { case ",$1," in *,"$2",*) return 0 ;; *) return 1 ;; esac; }

# cpu_seconds PID → the process's user + system CPU so far, in seconds (0 once it is gone)
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# forget_pid PID: a stopped server's PID leaves the caller's started_pids array, the list its exit trap stops (the
# number may be reused).
forget_pid() {
  local kept=() p
  for p in "${started_pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  started_pids=("${kept[@]}")
}

# SIGTERM to a PID this script started (nothing when empty), then up to 10 s for it to exit.
stop_pid() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
}

# require_tools COMMAND:PACKAGE…: installs with apt-get the packages whose command is missing.
require_tools() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# nginx_temp_paths DIR → the nginx directives that keep every temp path of this nginx build under
# DIR (created); a module compiled out must not be named, or nginx refuses the configuration.
nginx_temp_paths() {
  local dir=$1 paths m
  mkdir -p "$dir"
  paths="client_body_temp_path $dir/body;"
  for m in proxy fastcgi uwsgi scgi; do
    nginx -V 2>&1 | grep -q -- "--without-http_${m}_module" || paths+=" ${m}_temp_path $dir/$m;"
  done
  echo "$paths"
}
