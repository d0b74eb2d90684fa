#!/usr/bin/env bash
# What the kubefence GitHub Action runs: review the pull request, write the comment, the HTML report
# and the job summary, optionally post the comment and push regenerated policies. Configured through
# environment variables (the action maps its inputs onto them), so it runs and is tested outside
# GitHub too.
#
#   KF_BASE, KF_HEAD          revisions to compare (required): the PR's base and head commits
#   KF_BASE_REF               the base branch (github.base_ref): fetched when KF_BASE is missing
#   KF_PR_NUMBER              the pull request: refs/pull/N/head is fetched when KF_HEAD is missing
#                             (a pull request from a fork), and the number is written for the
#                             comment workflow (pr-number)
#   KF_PATHS                  the application's manifests, space separated (default: whole tree)
#   KF_GUARDRAILS             guardrail files or directories, space separated
#   KF_POLICIES               directory of the committed generated policies
#   KF_FAIL_ON                change types that fail the check, space separated
#   KF_OUT                    where comment.md, report.html, exit-code and pr-number go
#                             (default: $RUNNER_TEMP/kubefence or ./kubefence-report)
#   KF_COMMENT=true           create or update one PR comment (needs GITHUB_TOKEN with
#                             pull-requests: write, GITHUB_REPOSITORY, KF_PR_NUMBER)
#   KF_PUSH_POLICIES=true     commit and push regenerated policies to KF_PUSH_BRANCH
#   GITHUB_STEP_SUMMARY       appended with the comment when set; GITHUB_OUTPUT gets exit-code,
#                             comment, report and dir: on every exit code, so reports are uploaded
#                             even when the review could not run
set -euo pipefail

if [ -n "${RUNNER_TEMP:-}" ]; then default_out="$RUNNER_TEMP/kubefence"; else default_out="kubefence-report"; fi
out="${KF_OUT:-$default_out}"
mkdir -p "$out"
comment="$out/comment.md"
report="$out/report.html"
rm -f "$comment" "$report"

outputs() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      echo "exit-code=$1"
      echo "comment=$comment"
      echo "report=$report"
      echo "dir=$out"
    } >>"$GITHUB_OUTPUT"
  fi
  printf '%s\n' "$1" >"$out/exit-code"
}

# An error is exit 2 with a one-line message, in the comment too, and the outputs set
fail() {
  echo "kubefence: error: $1" >&2
  printf '%s\n\n%s\n' "<!-- kubefence-review -->" "kubefence review could not run: \`kubefence: error: $1\`" >"$comment"
  [ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$comment" >>"$GITHUB_STEP_SUMMARY"
  outputs 2
  exit 2
}

[ -n "${KF_BASE:-}" ] || fail "KF_BASE (the base revision) is empty: outside a pull request, set the base input"
[ -n "${KF_HEAD:-}" ] || fail "KF_HEAD (the head revision) is empty: outside a pull request, set the head input"

have_commit() { git cat-file -e "$1^{commit}" 2>/dev/null; }

# A pull_request checkout is the merge commit, often shallow: fetch the two commits compared. A fork's
# head is not on a branch of this repository, but GitHub keeps it as refs/pull/N/head.
fetch_commit() {
  local rev="$1" fallback="$2"
  have_commit "$rev" && return 0
  git fetch --quiet --no-tags --depth=1 origin "$rev" 2>/dev/null && have_commit "$rev" && return 0
  if [ -n "$fallback" ]; then
    git fetch --quiet --no-tags origin "$fallback" 2>/dev/null || true
  fi
  have_commit "$rev"
}

if [[ "${KF_PR_NUMBER:-}" =~ ^[0-9]+$ ]]; then
  printf '%s\n' "$KF_PR_NUMBER" >"$out/pr-number"
fi
base_fallback=""
[ -n "${KF_BASE_REF:-}" ] && base_fallback="+refs/heads/$KF_BASE_REF:refs/remotes/origin/$KF_BASE_REF"
head_fallback=""
[[ "${KF_PR_NUMBER:-}" =~ ^[0-9]+$ ]] && head_fallback="+refs/pull/$KF_PR_NUMBER/head:refs/remotes/origin/pr-$KF_PR_NUMBER"
for pair in "$KF_BASE|$base_fallback" "$KF_HEAD|$head_fallback"; do
  rev="${pair%%|*}"
  if ! fetch_commit "$rev" "${pair#*|}"; then
    fail "revision $rev is not in this clone and could not be fetched from origin (check out with fetch-depth: 0, or pass base/head)"
  fi
done

args=(review --base "$KF_BASE" --head "$KF_HEAD" --markdown "$comment" --html "$report")
for g in ${KF_GUARDRAILS:-}; do args+=(--guardrails "$g"); done
if [ -n "${KF_POLICIES:-}" ]; then args+=(--policies "$KF_POLICIES"); fi
for f in ${KF_FAIL_ON:-}; do args+=(--fail-on "$f"); done
# shellcheck disable=SC2206  # paths are space separated by design
if [ -n "${KF_PATHS:-}" ]; then args+=(${KF_PATHS}); fi

status=0
kubefence "${args[@]}" 2>"$out/stderr.txt" || status=$?
cat "$out/stderr.txt" >&2
if [ "$status" -ge 2 ]; then
  error="$(grep -m1 'kubefence: error:' "$out/stderr.txt" || tail -n1 "$out/stderr.txt" || true)"
  printf '%s\n\n%s\n' "<!-- kubefence-review -->" "kubefence review could not run (exit $status): \`${error}\`" >"$comment"
  [ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$comment" >>"$GITHUB_STEP_SUMMARY"
  outputs "$status"
  exit "$status"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$comment" >>"$GITHUB_STEP_SUMMARY"
fi
outputs "$status"

if [ "${KF_COMMENT:-false}" = "true" ]; then
  python3 "$(dirname "$0")/pr_comment.py" "$comment" || echo "warning: could not post the PR comment" >&2
fi

if [ "${KF_PUSH_POLICIES:-false}" = "true" ] && [ -n "${KF_POLICIES:-}" ]; then
  if [ -n "$(git status --porcelain -- "$KF_POLICIES")" ]; then
    git add -- "$KF_POLICIES"
    git -c user.name="${KF_GIT_NAME:-kubefence}" -c user.email="${KF_GIT_EMAIL:-kubefence@users.noreply.github.com}" \
      commit -q -m "Regenerate network policies (kubefence)" -- "$KF_POLICIES"
    git push -q origin "HEAD:${KF_PUSH_BRANCH:?KF_PUSH_BRANCH is required to push}"
    echo "pushed regenerated policies to $KF_PUSH_BRANCH"
  fi
fi
exit "$status"
