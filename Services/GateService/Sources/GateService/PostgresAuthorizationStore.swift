public import GateCore
public import Storage

/// ``AuthorizationStore`` over InboxService's tables, with the queries its
/// README lists for the gate ("What the gate reads"). The gate only reads:
/// it owns no table and writes nothing to PostgreSQL.
///
/// Statements are prepared once per pooled connection (`query` caches them).
/// A single pair is one primary-key lookup; a batch is one statement that
/// joins the pairs (two parallel text arrays) against the primary key, so a
/// cart costs one round trip whatever its size.
public struct PostgresAuthorizationStore: AuthorizationStore {
    private let pool: PostgresPool

    /// Reads through `pool`.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    static let singleSQL = """
        SELECT status, version, inbox.unix_micros(approved_at) AS approved_micros,
               inbox.unix_micros(revoked_at) AS revoked_micros
          FROM inbox.authorization_state WHERE seller_id = $1::text AND product_id = $2::text
        """

    static let batchSQL = """
        SELECT s.seller_id, s.product_id, s.status, s.version,
               inbox.unix_micros(s.approved_at) AS approved_micros,
               inbox.unix_micros(s.revoked_at) AS revoked_micros
          FROM unnest($1::text[], $2::text[]) AS k(seller_id, product_id)
          JOIN inbox.authorization_state s ON s.seller_id = k.seller_id AND s.product_id = k.product_id
        """

    static let historySQL = """
        SELECT EXISTS (
            SELECT 1 FROM inbox.authorization_requests
             WHERE seller_id = $1::text AND product_id = $2::text
               AND status IN ('APPROVED', 'REVOKED')
               AND decided_at <= inbox.from_unix_micros($3::bigint)
               AND (revoked_at IS NULL OR revoked_at > inbox.from_unix_micros($3::bigint))) AS authorized
        """

    public func states(of pairs: [AuthorizationPair], deadline: Deadline) throws -> [AuthorizationState] {
        if pairs.isEmpty { return [] }
        return try pool.withConnection(deadline: deadline) { connection in
            if pairs.count == 1, let pair = pairs.first {
                let rows = try connection.query(
                    Self.singleSQL, [.text(pair.sellerId), .text(pair.productId)], deadline: deadline)
                guard let row = rows.first else { return [.notRequested] }
                return [try Self.state(from: row, pair: pair)]
            }
            let rows = try connection.query(
                Self.batchSQL,
                [PostgresArrayLiteral.text(pairs.map(\.sellerId)), PostgresArrayLiteral.text(pairs.map(\.productId))],
                deadline: deadline)
            var found: [AuthorizationPair: AuthorizationState] = [:]
            for row in rows {
                let pair = AuthorizationPair(sellerId: try row.string("seller_id"), productId: try row.string("product_id"))
                found[pair] = try Self.state(from: row, pair: pair)
            }
            return pairs.map { found[$0] ?? .notRequested }
        }
    }

    public func wasAuthorized(_ pair: AuthorizationPair, atMicros orderTimeMicros: Int64, deadline: Deadline) throws -> Bool {
        try pool.withConnection(deadline: deadline) { connection in
            let rows = try connection.query(
                Self.historySQL, [.text(pair.sellerId), .text(pair.productId), .int64(orderTimeMicros)], deadline: deadline)
            return try rows.first?.bool("authorized") ?? false
        }
    }

    /// Maps a state row; a row that breaks the schema's own rules is refused
    /// (the caller fails closed) rather than guessed at.
    static func state(from row: PostgresRow, pair: AuthorizationPair) throws -> AuthorizationState {
        let status = try row.string("status")
        let version = try row.int64("version")
        let approved = try row.decodeIfPresent(Int64.self, "approved_micros")
        let revoked = try row.decodeIfPresent(Int64.self, "revoked_micros")
        let decoded: AuthorizationState.Status?
        switch status {
        case "REQUESTED": decoded = .pending
        case "REJECTED": decoded = .rejected
        case "CANCELLED": decoded = .cancelled
        case "APPROVED": decoded = approved.map { .approved(sinceMicros: $0) }
        case "REVOKED":
            if let approved, let revoked { decoded = .revoked(approvedAtMicros: approved, revokedAtMicros: revoked) } else { decoded = nil }
        default: decoded = nil
        }
        let state = decoded.map { AuthorizationState(version: version, status: $0) }
        guard let state, state.isWellFormed else {
            throw PostgresError(
                kind: .decoding,
                message: "inbox.authorization_state row of \(pair) is malformed: status \(status), version \(version)")
        }
        return state
    }
}
