import PolicyCore
import Proto
import Storage

/// How policy rows are selected and decoded. Timestamps travel as unix
/// microseconds computed by PostgreSQL (`extract(epoch …)` is exact `numeric`
/// since PostgreSQL 14), so windows round-trip to the microsecond.
enum PolicyRow {
    /// The columns `decode` reads, in order, for a `policy.policies` alias `p`.
    static let columns = """
        p.id::text, p.code, p.kind, p.commission_type, p.rate_ppm, p.fixed_amount, p.currency,
        p.min_commission, p.max_commission, p.status,
        (extract(epoch FROM p.valid_from) * 1000000)::int8,
        (extract(epoch FROM p.valid_until) * 1000000)::int8,
        p.version
        """

    /// `columns` plus the audit metadata `decodeStored` reads.
    static let storedColumns = columns + """
        ,
        (extract(epoch FROM p.created_at) * 1000000)::int8, p.created_by,
        (extract(epoch FROM p.updated_at) * 1000000)::int8, p.updated_by
        """

    /// Rebuilds a policy from a row of `columns`, re-checking every rule: a row
    /// that breaks one is data corruption and surfaces as an internal error
    /// naming the policy, rather than a wrong commission.
    static func decode(_ row: PostgresRow, offset o: Int = 0) throws -> Policy {
        let id = try row.string(o + 0)
        do {
            let kind = try enumValue(PolicyKind.self, try row.string(o + 2), column: "kind", id: id)
            let type = try enumValue(CommissionType.self, try row.string(o + 3), column: "commission_type", id: id)
            let status = try enumValue(PolicyStatus.self, try row.string(o + 9), column: "status", id: id)
            let currency = try row.decodeIfPresent(String.self, o + 6).map { code throws(PolicyError) in try Currency(code: code) }
            let commission: CommissionRule
            switch type {
            case .percentage:
                commission = .percentage(try CommissionRate(ppm: try row.int64(o + 4)))
            case .fixed:
                guard let currency else { throw StoredPolicyError(id: id, problem: "FIXED policy without currency") }
                commission = .fixed(Money(minorUnits: try row.int64(o + 5), currency: currency))
            }
            let capCurrency = currency
            func cap(_ column: Int) throws -> Money? {
                guard let units = try row.decodeIfPresent(Int64.self, o + column) else { return nil }
                guard let capCurrency else { throw StoredPolicyError(id: id, problem: "cap without currency") }
                return Money(minorUnits: units, currency: capCurrency)
            }
            return try Policy(
                id: id,
                code: try row.string(o + 1),
                kind: kind,
                commission: commission,
                currency: currency,
                minCommission: try cap(7),
                maxCommission: try cap(8),
                status: status,
                window: try PolicyWindow(start: try row.decodeIfPresent(Int64.self, o + 10), end: try row.decodeIfPresent(Int64.self, o + 11)),
                version: try row.int64(o + 12)
            )
        } catch let error as StoredPolicyError {
            throw error
        } catch {
            throw StoredPolicyError(id: id, problem: "\(error)")
        }
    }

    /// A policy with its audit metadata, as the admin RPCs return it.
    static func decodeStored(_ row: PostgresRow) throws -> PolicyV1.Policy {
        let policy = try decode(row)
        return PolicyV1.Policy(
            id: policy.id,
            terms: PolicyV1.PolicyTerms(policy),
            status: PolicyV1.PolicyStatus(policy.status),
            version: policy.version,
            createdAtUnixMicros: try row.int64(13),
            createdBy: try row.string(14),
            updatedAtUnixMicros: try row.int64(15),
            updatedBy: try row.string(16)
        )
    }

    private static func enumValue<T: RawRepresentable>(
        _ type: T.Type, _ raw: String, column: String, id: String
    ) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw StoredPolicyError(id: id, problem: "\(column) \"\(raw)\" is not a known value")
        }
        return value
    }
}

/// A stored policy that PolicyCore refuses: the database constraints should
/// make it impossible, so it is reported as INTERNAL with the policy id.
struct StoredPolicyError: Error, Sendable, CustomStringConvertible {
    let id: String
    let problem: String

    var description: String { "stored policy \(id) is invalid: \(problem)" }
}
