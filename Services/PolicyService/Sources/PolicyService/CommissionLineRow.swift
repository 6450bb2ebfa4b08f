import PolicyCore
import Proto
import Storage

/// A recorded commission line as stored in `policy.commission_lines`, with
/// its frozen snapshot. It is returned as stored: never re-derived from the
/// live policy, so later edits cannot change it.
struct CommissionLineRow: Sendable {
    var orderItemID: String
    var batchID: String
    var productID: String
    var supplierID: String?
    var sellerID: String?
    var sellerTier: String?
    var lineAmount: Int64
    var currency: String
    var orderedAt: Int64
    var level: String
    var commission: Int64
    var snapshot: PolicyV1.PolicySnapshot?
    var recordedAt: Int64
    var recalculatedAt: Int64?

    /// The columns `init(row:)` reads, in order.
    static let columns = """
        order_item_id, batch_id, product_id, supplier_id, seller_id, seller_tier, line_amount, currency,
        (extract(epoch FROM ordered_at) * 1000000)::int8, level, commission_amount,
        policy_id::text, policy_code, policy_version, policy_kind, commission_type, rate_ppm, fixed_amount,
        policy_currency, min_commission, max_commission,
        (extract(epoch FROM valid_from) * 1000000)::int8, (extract(epoch FROM valid_until) * 1000000)::int8,
        (extract(epoch FROM recorded_at) * 1000000)::int8, (extract(epoch FROM recalculated_at) * 1000000)::int8
        """

    init(row: PostgresRow) throws {
        orderItemID = try row.string(0)
        batchID = try row.string(1)
        productID = try row.string(2)
        supplierID = try row.decodeIfPresent(String.self, 3)
        sellerID = try row.decodeIfPresent(String.self, 4)
        sellerTier = try row.decodeIfPresent(String.self, 5)
        lineAmount = try row.int64(6)
        currency = try row.string(7)
        orderedAt = try row.int64(8)
        level = try row.string(9)
        commission = try row.int64(10)
        if let policyID = try row.decodeIfPresent(String.self, 11) {
            snapshot = PolicyV1.PolicySnapshot(
                policyId: policyID,
                code: try row.string(12),
                version: try row.int64(13),
                kind: (try PolicyKind(rawValue: row.string(14))).map(PolicyV1.PolicyKind.init) ?? .unspecified,
                commissionType: (try CommissionType(rawValue: row.string(15))).map(PolicyV1.CommissionType.init) ?? .unspecified,
                ratePpm: try row.int64(16),
                fixedAmount: try row.int64(17),
                currency: try row.decodeIfPresent(String.self, 18) ?? "",
                minCommission: .wrapping(try row.decodeIfPresent(Int64.self, 19)),
                maxCommission: .wrapping(try row.decodeIfPresent(Int64.self, 20)),
                validFromUnixMicros: .wrapping(try row.decodeIfPresent(Int64.self, 21)),
                validUntilUnixMicros: .wrapping(try row.decodeIfPresent(Int64.self, 22))
            )
        } else {
            snapshot = nil
        }
        recordedAt = try row.int64(23)
        recalculatedAt = try row.decodeIfPresent(Int64.self, 24)
    }

    /// The wire form.
    func proto(newlyWritten: Bool) -> PolicyV1.CommissionLine {
        let level = ResolutionLevel(rawValue: self.level)
        return PolicyV1.CommissionLine(
            orderItemId: orderItemID,
            item: PolicyV1.OrderItem(
                orderItemId: orderItemID, productId: productID, supplierId: supplierID ?? "", sellerId: sellerID ?? "",
                sellerTier: sellerTier ?? "", lineAmount: lineAmount, currency: currency, orderTimeUnixMicros: orderedAt
            ),
            resolution: PolicyV1.Resolution(
                orderItemId: orderItemID,
                level: level.map(PolicyV1.ResolutionLevel.init) ?? .unspecified,
                commissionAmount: commission,
                currency: currency,
                appliedPolicy: snapshot,
                failureReason: level == .safeMode ? .noPolicyFound : .unspecified,
                supplierId: supplierID ?? "",
                sellerTier: sellerTier ?? ""
            ),
            batchId: batchID,
            recordedAtUnixMicros: recordedAt,
            recalculatedAtUnixMicros: recalculatedAt ?? 0,
            newlyWritten: newlyWritten
        )
    }

    /// Why a repeat of this line with `request` is not the same item, or nil
    /// when it is. Supplier and tier are compared only when the caller gave
    /// them (otherwise they came from the catalog, which may have moved on).
    func mismatch(with request: PolicyV1.OrderItem) -> String? {
        if request.productId != productID {
            return "product_id: order item \(orderItemID) was recorded for product \"\(productID)\", got \"\(request.productId)\""
        }
        if request.lineAmount != lineAmount {
            return "line_amount: order item \(orderItemID) was recorded with \(lineAmount), got \(request.lineAmount)"
        }
        if request.currency != currency {
            return "currency: order item \(orderItemID) was recorded in \(currency), got \(request.currency)"
        }
        if request.orderTimeUnixMicros != orderedAt {
            return "order_time_unix_micros: order item \(orderItemID) was recorded at \(orderedAt), got \(request.orderTimeUnixMicros)"
        }
        if request.sellerId != (sellerID ?? "") {
            return "seller_id: order item \(orderItemID) was recorded for seller \"\(sellerID ?? "")\", got \"\(request.sellerId)\""
        }
        if !request.supplierId.isEmpty, request.supplierId != (supplierID ?? "") {
            return "supplier_id: order item \(orderItemID) was recorded for supplier \"\(supplierID ?? "")\", got \"\(request.supplierId)\""
        }
        if !request.sellerTier.isEmpty, request.sellerTier != (sellerTier ?? "") {
            return "seller_tier: order item \(orderItemID) was recorded with tier \"\(sellerTier ?? "")\", got \"\(request.sellerTier)\""
        }
        return nil
    }
}
