# Picks a JDK 21 or newer for Hayloft's build and launcher scripts.
#
# Sourced by ./mvnw, ./hayloft and .ci/run. When JAVA_HOME (or the java on
# PATH) is older than 21, it looks in the usual install locations for a newer
# JDK and exports JAVA_HOME. When none is found it stops with a clear message.

hayloft_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = //p' | head -n 1 | cut -d. -f1
}

hayloft_select_jdk() {
  hayloft_min=21
  hayloft_cand=""
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    hayloft_cand="$JAVA_HOME/bin/java"
  else
    hayloft_cand="$(command -v java 2>/dev/null || true)"
  fi
  if [ -n "$hayloft_cand" ]; then
    hayloft_v="$(hayloft_java_major "$hayloft_cand")"
    if [ "${hayloft_v:-0}" -ge "$hayloft_min" ] 2>/dev/null; then
      return 0
    fi
  fi
  hayloft_best=""
  hayloft_best_v=0
  hayloft_restore_f=0
  case $- in *f*) hayloft_restore_f=1; set +f ;; esac
  for hayloft_home in /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* \
      "${HOME-}"/.sdkman/candidates/java/* "${HOME-}"/.jdks/* \
      /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$hayloft_home/bin/java" ] && [ -x "$hayloft_home/bin/javac" ] || continue
    hayloft_v="$(hayloft_java_major "$hayloft_home/bin/java")"
    if [ "${hayloft_v:-0}" -ge "$hayloft_min" ] 2>/dev/null \
        && [ "$hayloft_v" -gt "$hayloft_best_v" ]; then
      hayloft_best="$hayloft_home"
      hayloft_best_v="$hayloft_v"
    fi
  done
  [ "$hayloft_restore_f" = 1 ] && set -f
  if [ -z "$hayloft_best" ]; then
    echo "Hayloft needs a JDK $hayloft_min or newer, and none was found." >&2
    echo "Install one (for example Temurin 21 or 25) and set JAVA_HOME to it." >&2
    exit 1
  fi
  JAVA_HOME="$hayloft_best"
  export JAVA_HOME
}

hayloft_select_jdk
