#!/usr/bin/env bash
# Runs o4octl against Tests/CLIStubServer (real health and runtime-flag
# methods over PostgreSQL, canned gate/inbox/policy answers) and checks exit
# statuses and key output: every command group, the wire error path, usage
# errors. Needs DATABASE_URL (a scratch database: the stub applies the ops
# migration) and a built o4octl.
#
#   Tests/CLITests/smoke-test.sh --stub    # builds the stub (and runs the unit tests)
#   DATABASE_URL=postgresql://... Tests/CLITests/end-to-end.sh
#
# Environment: O4OCTL (default: <repo>/.build/debug/o4octl), STUB (default:
# $SCRATCH/.build/debug/CLIStubServer), SCRATCH (default /tmp/scratch-o4octl).
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
o4octl="${O4OCTL:-$repo/.build/debug/o4octl}"
stub="${STUB:-${SCRATCH:-/tmp/scratch-o4octl}/.build/debug/CLIStubServer}"
: "${DATABASE_URL:?set DATABASE_URL to a scratch PostgreSQL database}"
[[ -x "$o4octl" ]] || { echo "no o4octl at $o4octl (swift build --product o4octl, or set O4OCTL)"; exit 1; }
[[ -x "$stub" ]] || { echo "no stub server at $stub (run Tests/CLITests/smoke-test.sh --stub)"; exit 1; }

work="$(mktemp -d)"
stub_pid=""
cleanup() { [[ -n "$stub_pid" ]] && kill "$stub_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
printf '%s\n' checkout:checkout-secret-0123456789 settlement:settlement-secret-0123456789 \
  supplier-portal:portal-secret-0123456789 operator:operator-secret-0123456789 > "$work/credentials"
export WIRE_CREDENTIALS_FILE="$work/credentials" O4O_OPERATOR_ID=e2e-operator
"$stub" 0 > "$work/stub.log" 2>&1 &
stub_pid=$!
for _ in $(seq 50); do grep -q listening "$work/stub.log" && break; sleep 0.1; done
address="$(sed -n 's/.*listening on //p' "$work/stub.log")"
[[ -n "$address" ]] || { echo "stub did not start:"; cat "$work/stub.log"; exit 1; }
export O4O_GATE_ADDR="$address" O4O_INBOX_ADDR="$address" O4O_POLICY_ADDR="$address"

cat > "$work/items.json" <<'JSON'
{"batch_id": "settle-1", "items": [
  {"order_item_id": "oi-1", "product_id": "p-1", "line_amount": 129900, "currency": "KRW", "order_time": "2025-03-01T09:30:00Z"},
  {"order_item_id": "oi-2", "product_id": "none-2", "line_amount": 1250, "currency": "USD", "order_time_unix_micros": 1740821400000000}]}
JSON
printf '# cart\nok-1\nsel-2 p-2\n' > "$work/cart.txt"

failures=0
# expect STATUS TEXT -- ARGS...: runs o4octl ARGS, checks the exit status and that stdout+stderr contain TEXT.
expect() {
  local status="$1" text="$2"; shift 3
  local output; output="$("$o4octl" "$@" 2>&1)"; local actual=$?
  if [[ $actual -ne $status || "$output" != *"$text"* ]]; then
    failures=$((failures + 1))
    printf 'FAIL o4octl %s\n  wanted exit %s and "%s", got exit %s:\n%s\n' "$*" "$status" "$text" "$actual" "$output"
  else
    printf 'ok   o4octl %s\n' "$*"
  fi
}

expect 1 "redis FAILING" -- health
WIRE_CREDENTIALS_FILE="" expect 1 "postgresql ok" -- health --service policy   # health needs no credential
expect 1 '"status": "NOT_SERVING"' -- health --service gate --json
expect 0 "PHASE9_ROLLOUT_PERCENTAGE" -- flags get --service gate
expect 0 "-> 30" -- flags set --service gate PHASE9_ROLLOUT_PERCENTAGE 30 --reason e2e --actor e2e
expect 0 '"updated_by": "e2e"' -- flags get --service gate PHASE9_ROLLOUT_PERCENTAGE --json
expect 1 "error: INVALID_ARGUMENT: value: PHASE9_ROLLOUT_PERCENTAGE" -- flags set --service gate PHASE9_ROLLOUT_PERCENTAGE 140 --reason e2e
expect 1 "error: PERMISSION_DENIED: caller checkout" -- flags set --service gate PHASE9_ROLLOUT_PERCENTAGE 5 --reason e2e --caller checkout
expect 1 "error: UNAUTHENTICATED" -- flags get --service gate --credential not-a-known-secret-at-all
expect 1 "error: UNAVAILABLE" -- flags get --service gate --address 127.0.0.1:1
expect 0 "reason:                APPROVED" -- gate check --seller s --product ok-1 --stage cart
expect 3 "NOT_REQUESTED" -- gate check --seller s --product p-1 --stage cart --fail-on-deny
expect 0 '"reason": "APPROVED_AT_ORDER_TIME"' -- gate check --seller s --product ok-1 --stage settlement --order-time 2025-03-01T18:30:00+09:00 --json
expect 1 "error: PERMISSION_DENIED: caller checkout may not check stage SETTLEMENT" -- gate check --seller s --product ok --stage settlement --caller checkout
expect 0 "sel-2   p-2      ORDER" -- gate check-batch --seller sel-1 --file "$work/cart.txt" --stage order
expect 2 "error: --order-time: only with --stage settlement" -- gate check --seller s --product p --stage cart --order-time now
expect 0 "idempotency_key: k-e2e" -- inbox request --seller sel-1 --product p-1 --idempotency-key k-e2e
expect 0 "status:          APPROVED" -- inbox approve r-1 --supplier sup-1
expect 0 '"cooldown_until": "2025-03-31T09:30:00.123456Z"' -- inbox reject r-1 --supplier sup-1 --reason "not in region" --json
expect 0 "decided_by:      alice" -- inbox revoke r-1 --operator-id alice --reason fraud
expect 0 "status:          CANCELLED" -- inbox cancel r-1 --seller sel-1
expect 1 "error: NOT_FOUND: id: no such request missing-1" -- inbox cancel missing-1 --seller sel-1
expect 0 "more: --page-token 1" -- inbox list --supplier sup-1
expect 0 "000000000105" -- inbox mine --seller sel-1 --all
expect 0 "REQUESTED  APPROVED   sup-1" -- inbox show r-1 --supplier sup-1
expect 0 "pending: 5" -- inbox size --supplier sup-1
expect 2 'error: --status: expected one of' -- inbox list --supplier s --status pending
expect 0 "rate_ppm:        85000" -- policy create --code SUP-1 --kind supplier --type percentage --rate 8.5 --status active
expect 0 "version:    4" -- policy update DEFAULT-2025 --rate 12 --clear min-commission
expect 1 "error: FAILED_PRECONDITION: expected_version" -- policy update DEFAULT-2025 --rate 12 --expected-version 2
expect 0 '"status": "INACTIVE"' -- policy deactivate DEFAULT-2025 --json
expect 0 "settlement_cycle_days: 7" -- policy link DEFAULT-2025 --scope supplier --scope-id sup-1 --cycle-days 7
expect 0 "removed: false" -- policy unlink DEFAULT-2025 --scope supplier --scope-id unlinked
expect 0 "CREATE  alice" -- policy show DEFAULT-2025
expect 0 "commission_amount: 12990" -- policy resolve --product p-1 --amount 129900 --currency KRW --order-time 2025-03-01
expect 0 "2 resolved (1 in safe mode), 0 with errors" -- policy resolve-batch --file "$work/items.json"
expect 0 "batch settle-1: 2 lines, 1 written now" -- policy record --file "$work/items.json"
expect 1 "error: PERMISSION_DENIED" -- policy record --file "$work/items.json" --caller checkout
expect 2 "error: --rate: at most 4 decimals" -- policy create --code X --kind default --type percentage --rate 1.23456 --status active

# Catalog import straight into PostgreSQL (the schema comes from the catalog migration).
if [[ -z "$(psql "$DATABASE_URL" -tAc "SELECT to_regclass('catalog.suppliers')")" ]]; then
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -f "$repo/Shared/Catalog/Migrations/0001_catalog.up.sql"
fi
run="e2e-$$"
cat > "$work/catalog.json" <<JSON
{"suppliers": [{"id": "sup-$run", "name": "Acme"}], "sellers": [{"id": "sel-$run", "name": "Shop", "tier": "GOLD"}],
 "products": [{"id": "prod-$run", "supplier_id": "sup-$run", "name": "Kettle"}]}
JSON
sed "s/\"GOLD\"/\"gold\"/; s/\"sup-$run\", \"name\": \"Kettle/\"sup-nope\", \"name\": \"Kettle/" "$work/catalog.json" > "$work/bad.json"
expect 0 "valid, nothing written (dry run)" -- catalog import "$work/catalog.json" --dry-run
expect 0 "products:  1" -- catalog import "$work/catalog.json"
expect 1 'products[0].supplier_id: unknown supplier "sup-nope"' -- catalog import "$work/bad.json"
expect 0 '"products": 1' -- catalog import "$work/catalog.json" --json
[[ "$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM catalog.sellers WHERE id = 'sel-$run' AND tier = 'GOLD'")" == 1 ]] \
  || { failures=$((failures + 1)); echo "FAIL the refused import changed catalog.sellers"; }

echo
if [[ $failures -eq 0 ]]; then echo "end-to-end: all passed"; else echo "end-to-end: $failures failed"; exit 1; fi
