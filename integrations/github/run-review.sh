#!/usr/bin/env bash
# What the kubefence GitHub Action runs: review the pull request, publish the comment and the job
# summary, optionally push regenerated policies. Configured through environment variables (the
# action maps its inputs onto them), so it can be run and tested outside GitHub too.
#
#   KF_BASE, KF_HEAD          revisions to compare (required)
#   KF_PATHS                  the application's manifests, space separated (default: whole tree)
#   KF_GUARDRAILS             guardrail files, space separated
#   KF_POLICIES               directory of the committed generated policies
#   KF_FAIL_ON                change types that fail the check, space separated
#   KF_OUT                    where to write comment.md and report.html (default: $RUNNER_TEMP or .)
#   KF_COMMENT=true           create or update one PR comment (needs GITHUB_TOKEN, GITHUB_REPOSITORY,
#                             KF_PR_NUMBER)
#   KF_PUSH_POLICIES=true     commit and push regenerated policies to KF_PUSH_BRANCH
#   GITHUB_STEP_SUMMARY       appended with the comment when set; GITHUB_OUTPUT gets exit-code etc.
set -uo pipefail

: "${KF_BASE:?KF_BASE (the base revision) is required}"
: "${KF_HEAD:?KF_HEAD (the head revision) is required}"
out="${KF_OUT:-${RUNNER_TEMP:-.}}"
mkdir -p "$out"

args=(review --base "$KF_BASE" --head "$KF_HEAD" --markdown "$out/comment.md" --html "$out/report.html")
for g in ${KF_GUARDRAILS:-}; do args+=(--guardrails "$g"); done
[ -n "${KF_POLICIES:-}" ] && args+=(--policies "$KF_POLICIES")
for f in ${KF_FAIL_ON:-}; do args+=(--fail-on "$f"); done
# shellcheck disable=SC2206  # paths are space separated by design
[ -n "${KF_PATHS:-}" ] && args+=(${KF_PATHS})

kubefence "${args[@]}"
status=$?
if [ "$status" -ge 2 ]; then
  echo "kubefence review failed (exit $status)" >&2
  exit "$status"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out/comment.md" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "exit-code=$status"; echo "comment=$out/comment.md"; echo "report=$out/report.html"; } >> "$GITHUB_OUTPUT"
fi

if [ "${KF_COMMENT:-false}" = "true" ]; then
  python3 "$(dirname "$0")/pr_comment.py" "$out/comment.md" || echo "warning: could not post the PR comment" >&2
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
