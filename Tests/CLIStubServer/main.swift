// A stand-in server for trying o4octl end to end before the services exist:
// one WireServer answering the health and runtime-flag methods for real
// (RuntimeFlags over PostgreSQL, as every service does) and every gate, inbox
// and policy method with canned answers built from the request, so the CLI's
// argument → request mapping shows in its output. Not a service: it enforces
// callers like the services do, but decides nothing.
//
//   DATABASE_URL=... WIRE_CREDENTIALS_FILE=... CLIStubServer [port]
//
// Errors on purpose, to see the CLI's error path: a request id, seller or
// product starting with "deny" answers PERMISSION_DENIED, "missing" NOT_FOUND.
import Foundation
import Logging
import Proto
import ServiceKit
import Storage
import Wire

let environment = ProcessInfo.processInfo.environment
guard let databaseURL = environment["DATABASE_URL"], let credentialsPath = environment["WIRE_CREDENTIALS_FILE"] else {
    print("CLIStubServer needs DATABASE_URL and WIRE_CREDENTIALS_FILE")
    exit(2)
}
var logger = Logger(label: "cli-stub")
logger.logLevel = .warning
let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 0

try MigrationCommand.run(
    arguments: ["up"], components: [.runtimeFlags], databaseURL: databaseURL, backupDirectory: "/tmp", logger: logger
)
let pool = PostgresPool(configuration: .init(url: databaseURL, size: 2), logger: logger)
let flags = try RuntimeFlags(
    service: "gate",
    definitions: [
        .bool("ENABLE_SELLER_AUTHORIZATION", "Kill switch of the seller authorization gate."),
        .int("PHASE9_ROLLOUT_PERCENTAGE", "Share of products (by bucket) the gate enforces.", in: 0...100),
    ],
    environment: EnvironmentReader(), defaults: ["ENABLE_SELLER_AUTHORIZATION": "true", "PHASE9_ROLLOUT_PERCENTAGE": "0"],
    pool: pool, logger: logger
)
_ = flags.refresh()

@Sendable func refuse(_ ids: String...) throws(RPCError) {
    for id in ids {
        if id.hasPrefix("deny") { throw RPCError(.permissionDenied, "caller may not act on \(id)") }
        if id.hasPrefix("missing") { throw RPCError(.notFound, "id: no such request \(id)") }
    }
}

let now: Int64 = 1_740_821_400_123_456  // 2025-03-01T09:30:00.123456Z, fixed so outputs compare
var router = MethodRouter()
flags.register(on: &router)
HealthService.register(on: &router, services: ["gate.v1.GateService", "inbox.v1.InboxService", "policy.v1.PolicyService"],
                       isDraining: { false }) {
    HealthReport(dependencies: [
        HealthV1.DependencyStatus(name: "postgresql", ok: pool.isReachable(), detail: ""),
        HealthV1.DependencyStatus(name: "redis", ok: false, detail: "stub has no redis"),
    ])
}

// MARK: Gate
@Sendable func verdict(_ seller: String, _ product: String, _ stage: GateV1.Stage, _ orderTime: Int64) -> GateV1.CheckResult {
    let allowed = product.hasPrefix("ok")
    return GateV1.CheckResult(
        allowed: allowed, reason: allowed ? (orderTime == 0 ? .approved : .approvedAtOrderTime) : .notRequested,
        evaluatedReason: allowed ? .approved : .notRequested, enforced: true, tier: .redis, mode: .full,
        authorizationVersion: Int64(seller.count * 100 + product.count)
    )
}
let gateCallers: Set<Caller> = [.checkout, .settlement, .operator]
router.register("/gate.v1.GateService/Check", callers: gateCallers, idempotent: true) {
    (context: CallContext, request: GateV1.CheckRequest) throws -> GateV1.CheckResponse in
    try refuse(request.sellerId, request.productId)
    if request.stage == .settlement, context.caller == .checkout {
        throw RPCError(.permissionDenied, "caller checkout may not check stage SETTLEMENT")
    }
    return GateV1.CheckResponse(result: verdict(request.sellerId, request.productId, request.stage, request.orderTimeUnixMicros))
}
router.register("/gate.v1.GateService/CheckBatch", callers: gateCallers, idempotent: true) {
    (_: CallContext, request: GateV1.CheckBatchRequest) throws -> GateV1.CheckBatchResponse in
    GateV1.CheckBatchResponse(results: request.items.map {
        verdict($0.sellerId.isEmpty ? request.sellerId : $0.sellerId, $0.productId, $0.stage, $0.orderTimeUnixMicros)
    })
}

// MARK: Inbox
let inboxCallers: Set<Caller> = [.supplierPortal, .operator]
@Sendable func row(_ id: String, seller: String = "sel-1", product: String = "prod-1", status: InboxV1.AuthorizationStatus,
         reason: String = "", decidedBy: String = "", key: String = "") -> InboxV1.AuthorizationRequest {
    InboxV1.AuthorizationRequest(
        id: id, sellerId: seller, productId: product, supplierId: "sup-1", status: status, version: 7,
        createdAtUnixMicros: now, decidedAtUnixMicros: status == .requested ? 0 : now + 1_000_000, revokedAtUnixMicros: 0,
        reason: reason, cooldownUntilUnixMicros: status == .rejected ? now + 30 * 86_400_000_000 : 0,
        note: "", decidedBy: decidedBy, idempotencyKey: key
    )
}
router.register("/inbox.v1.InboxService/Request", callers: inboxCallers) {
    (_: CallContext, request: InboxV1.RequestAuthorizationRequest) throws -> InboxV1.RequestAuthorizationResponse in
    try refuse(request.sellerId, request.productId)
    var created = row("0b7c6a52-0000-4000-8000-000000000001", seller: request.sellerId, product: request.productId,
                      status: .requested, key: request.idempotencyKey)
    created.note = request.note
    return InboxV1.RequestAuthorizationResponse(request: created, replayed: false)
}
router.register("/inbox.v1.InboxService/Approve", callers: [.supplierPortal]) {
    (_: CallContext, request: InboxV1.ApproveAuthorizationRequest) throws -> InboxV1.ApproveAuthorizationResponse in
    try refuse(request.id, request.supplierId)
    return .init(request: row(request.id, status: .approved, reason: request.reason, decidedBy: request.supplierId))
}
router.register("/inbox.v1.InboxService/Reject", callers: [.supplierPortal]) {
    (_: CallContext, request: InboxV1.RejectAuthorizationRequest) throws -> InboxV1.RejectAuthorizationResponse in
    try refuse(request.id, request.supplierId)
    return .init(request: row(request.id, status: .rejected, reason: request.reason, decidedBy: request.supplierId))
}
router.register("/inbox.v1.InboxService/Revoke", callers: inboxCallers) {
    (context: CallContext, request: InboxV1.RevokeAuthorizationRequest) throws -> InboxV1.RevokeAuthorizationResponse in
    try refuse(request.id)
    let actor = context.caller == .operator ? request.operatorId : request.supplierId
    var revoked = row(request.id, status: .revoked, reason: request.reason, decidedBy: actor)
    revoked.revokedAtUnixMicros = now + 2_000_000
    return .init(request: revoked)
}
router.register("/inbox.v1.InboxService/Cancel", callers: [.supplierPortal]) {
    (_: CallContext, request: InboxV1.CancelAuthorizationRequest) throws -> InboxV1.CancelAuthorizationResponse in
    try refuse(request.id, request.sellerId)
    return .init(request: row(request.id, seller: request.sellerId, status: .cancelled, decidedBy: request.sellerId))
}
/// Three pages of two rows each, so --all and --page-token can be seen working.
@Sendable func page(token: String, statuses: [InboxV1.AuthorizationStatus], seller: String) -> ([InboxV1.AuthorizationRequest], String) {
    let index = Int(token) ?? 0
    let status = statuses.first ?? .requested
    let rows = (0..<2).map { row("0b7c6a52-0000-4000-8000-00000000010\(index * 2 + $0)", seller: seller, status: status) }
    return (rows, index < 2 ? String(index + 1) : "")
}
router.register("/inbox.v1.InboxService/ListInbox", callers: inboxCallers, idempotent: true) {
    (_: CallContext, request: InboxV1.ListInboxRequest) throws -> InboxV1.ListInboxResponse in
    try refuse(request.supplierId)
    let (rows, next) = page(token: request.pageToken, statuses: request.statuses, seller: "sel-1")
    return .init(requests: rows, nextPageToken: next)
}
router.register("/inbox.v1.InboxService/ListMine", callers: inboxCallers, idempotent: true) {
    (_: CallContext, request: InboxV1.ListMineRequest) throws -> InboxV1.ListMineResponse in
    let (rows, next) = page(token: request.pageToken, statuses: request.statuses, seller: request.sellerId)
    return .init(requests: rows, nextPageToken: next)
}
router.register("/inbox.v1.InboxService/Get", callers: inboxCallers, idempotent: true) {
    (_: CallContext, request: InboxV1.GetAuthorizationRequest) throws -> InboxV1.GetAuthorizationResponse in
    try refuse(request.id)
    return .init(request: row(request.id, status: .approved, decidedBy: "sup-1"), events: [
        InboxV1.AuditEvent(requestId: request.id, fromStatus: .unspecified, toStatus: .requested, actorRole: .seller,
                           actorId: "sel-1", caller: "supplier-portal", reason: "", atUnixMicros: now, version: 6),
        InboxV1.AuditEvent(requestId: request.id, fromStatus: .requested, toStatus: .approved, actorRole: .supplier,
                           actorId: "sup-1", caller: "supplier-portal", reason: "ok", atUnixMicros: now + 1_000_000, version: 7),
    ])
}
router.register("/inbox.v1.InboxService/InboxSize", callers: inboxCallers, idempotent: true) {
    (_: CallContext, request: InboxV1.InboxSizeRequest) throws -> InboxV1.InboxSizeResponse in
    try refuse(request.supplierId)
    return .init(pending: Int64(request.supplierId.count))
}

// MARK: Policy
let policyID = "5f1d7a2e-1b3c-4d5e-8f90-a1b2c3d4e5f6"
@Sendable func stored(_ terms: PolicyV1.PolicyTerms?, status: PolicyV1.PolicyStatus, version: Int64, by: String) -> PolicyV1.Policy {
    PolicyV1.Policy(id: policyID, terms: terms, status: status, version: version, createdAtUnixMicros: now,
                    createdBy: by, updatedAtUnixMicros: now, updatedBy: by)
}
let currentTerms = PolicyV1.PolicyTerms(
    code: "DEFAULT-2025", kind: .default, commissionType: .percentage, ratePpm: 100_000, fixedAmount: 0, currency: "USD",
    minCommission: PolicyV1.Int64Value(value: 100), maxCommission: nil,
    validFromUnixMicros: PolicyV1.Int64Value(value: 1_735_689_600_000_000), validUntilUnixMicros: nil
)
@Sendable func resolution(_ item: PolicyV1.OrderItem) -> PolicyV1.Resolution {
    guard !item.productId.hasPrefix("none") else {
        return PolicyV1.Resolution(orderItemId: item.orderItemId, level: .safeMode, commissionAmount: 0, currency: item.currency,
                                   appliedPolicy: nil, failureReason: .noPolicyFound, supplierId: item.supplierId, sellerTier: item.sellerTier)
    }
    // 10 % half-up, as the real service documents.
    let commission = (item.lineAmount * 100_000 + 500_000) / 1_000_000
    return PolicyV1.Resolution(
        orderItemId: item.orderItemId, level: .default, commissionAmount: commission, currency: item.currency,
        appliedPolicy: PolicyV1.PolicySnapshot(policyId: policyID, code: "DEFAULT-2025", version: 3, kind: .default,
                                               commissionType: .percentage, ratePpm: 100_000, currency: "USD",
                                               minCommission: PolicyV1.Int64Value(value: 100)),
        failureReason: .unspecified, supplierId: item.supplierId.isEmpty ? "sup-1" : item.supplierId,
        sellerTier: item.sellerTier.isEmpty ? "GOLD" : item.sellerTier
    )
}
let resolvers: Set<Caller> = [.checkout, .settlement, .operator]
router.register("/policy.v1.PolicyService/Resolve", callers: resolvers, idempotent: true) {
    (_: CallContext, request: PolicyV1.ResolveRequest) throws -> PolicyV1.ResolveResponse in
    guard let item = request.item else { throw RPCError.invalidArgument(field: "item", "required") }
    guard item.lineAmount > 0 else { throw RPCError.invalidArgument(field: "line_amount", "must be positive, got \(item.lineAmount)") }
    return .init(resolution: resolution(item))
}
router.register("/policy.v1.PolicyService/ResolveBatch", callers: resolvers, idempotent: true) {
    (_: CallContext, request: PolicyV1.ResolveBatchRequest) throws -> PolicyV1.ResolveBatchResponse in
    .init(results: request.items.map { item in
        item.lineAmount > 0
            ? PolicyV1.ItemResult(orderItemId: item.orderItemId, resolution: resolution(item))
            : PolicyV1.ItemResult(orderItemId: item.orderItemId, error: PolicyV1.ItemError(
                orderItemId: item.orderItemId, statusCode: 3, statusMessage: "line_amount: must be positive, got \(item.lineAmount)"))
    })
}
router.register("/policy.v1.PolicyService/RecordCommissions", callers: [.settlement]) {
    (_: CallContext, request: PolicyV1.RecordCommissionsRequest) throws -> PolicyV1.RecordCommissionsResponse in
    for (index, item) in request.items.enumerated() where item.lineAmount <= 0 {
        throw RPCError.invalidArgument(field: "items[\(index)].line_amount", "must be positive, got \(item.lineAmount)")
    }
    return .init(lines: request.items.enumerated().map { index, item in
        PolicyV1.CommissionLine(orderItemId: item.orderItemId, item: item, resolution: resolution(item), batchId: request.batchId,
                                recordedAtUnixMicros: now, recalculatedAtUnixMicros: request.recalculate ? now + 5 : 0,
                                newlyWritten: request.recalculate || index % 2 == 0)
    })
}
router.register("/policy.v1.PolicyService/CreatePolicy", callers: [.operator]) {
    (_: CallContext, request: PolicyV1.CreatePolicyRequest) throws -> PolicyV1.PolicyResponse in
    .init(policy: stored(request.terms, status: request.status, version: 1, by: request.operatorId))
}
router.register("/policy.v1.PolicyService/UpdatePolicy", callers: [.operator]) {
    (_: CallContext, request: PolicyV1.UpdatePolicyRequest) throws -> PolicyV1.PolicyResponse in
    guard request.expectedVersion == 3 else {
        throw RPCError(.failedPrecondition, "expected_version: policy changed since version \(request.expectedVersion); current_version=3")
    }
    return .init(policy: stored(request.terms, status: .active, version: 4, by: request.operatorId))
}
router.register("/policy.v1.PolicyService/SetPolicyStatus", callers: [.operator]) {
    (_: CallContext, request: PolicyV1.SetPolicyStatusRequest) throws -> PolicyV1.PolicyResponse in
    guard request.expectedVersion == 3 else {
        throw RPCError(.failedPrecondition, "expected_version: policy changed since version \(request.expectedVersion); current_version=3")
    }
    return .init(policy: stored(currentTerms, status: request.status, version: 4, by: request.operatorId))
}
router.register("/policy.v1.PolicyService/LinkPolicy", callers: [.operator]) {
    (_: CallContext, request: PolicyV1.LinkPolicyRequest) throws -> PolicyV1.LinkPolicyResponse in
    .init(link: PolicyV1.PolicyLink(scopeKind: request.scopeKind, scopeId: request.scopeId, policyId: request.policyId,
                                    settlementCycleDays: request.settlementCycleDays, createdAtUnixMicros: now, createdBy: request.operatorId))
}
router.register("/policy.v1.PolicyService/UnlinkPolicy", callers: [.operator]) {
    (_: CallContext, request: PolicyV1.UnlinkPolicyRequest) throws -> PolicyV1.UnlinkPolicyResponse in
    .init(removed: request.scopeId != "unlinked")
}
router.register("/policy.v1.PolicyService/GetPolicy", callers: [.operator, .settlement], idempotent: true) {
    (_: CallContext, request: PolicyV1.GetPolicyRequest) throws -> PolicyV1.GetPolicyResponse in
    guard request.policyId == policyID || request.code == "DEFAULT-2025" else {
        throw RPCError(.notFound, "policy: no policy \(request.policyId.isEmpty ? request.code : request.policyId)")
    }
    return .init(
        policy: stored(currentTerms, status: .active, version: 3, by: "alice"),
        links: [PolicyV1.PolicyLink(scopeKind: .supplier, scopeId: "sup-1", policyId: policyID, settlementCycleDays: 7,
                                    createdAtUnixMicros: now, createdBy: "alice")],
        history: [PolicyV1.PolicyAuditEntry(policyId: policyID, action: .create, actor: "alice", caller: "operator",
                                            atUnixMicros: now, beforeJson: "", afterJson: "{\"rate_ppm\":100000}", reason: "")]
    )
}

let credentials = try CredentialStore(fileContents: String(contentsOfFile: credentialsPath, encoding: .utf8))
var configuration = WireServerConfiguration(port: port)
configuration.host = "127.0.0.1"
configuration.workerThreads = 4
let server = WireServer(configuration: configuration, router: router, credentials: credentials, logger: logger)
try server.start()
FileHandle.standardOutput.write(Data("CLIStubServer listening on 127.0.0.1:\(server.port)\n".utf8))
while true { sleep(3600) }
