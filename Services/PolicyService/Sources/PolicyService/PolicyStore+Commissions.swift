import PolicyCore
import Storage

/// A line about to be written: the priced item and its resolution.
struct NewCommissionLine: Sendable {
    var item: OrderItem
    var sellerID: String
    var resolution: Resolution
}

extension PolicyStore {
    /// The recorded lines of `orderItemIDs`, by order item id.
    static func commissionLines(
        _ orderItemIDs: some Sequence<String>, on connection: PostgresConnection, deadline: Deadline
    ) throws -> [String: CommissionLineRow] {
        let rows = try connection.query(
            "SELECT \(CommissionLineRow.columns) FROM policy.commission_lines WHERE order_item_id = ANY($1::text[])",
            [PostgresArrayLiteral.text(orderItemIDs)],
            deadline: deadline
        )
        var lines: [String: CommissionLineRow] = [:]
        lines.reserveCapacity(rows.count)
        for row in rows {
            let line = try CommissionLineRow(row: row)
            lines[line.orderItemID] = line
        }
        return lines
    }

    /// Writes `lines` in one statement and returns the order item ids this
    /// statement wrote.
    ///
    /// Without `overwrite`, `ON CONFLICT DO NOTHING`: a line recorded by a
    /// concurrent call is left alone (the caller reads it back). With it, the
    /// line is replaced and `recalculated_at` set. Rows go in order item id
    /// order so that concurrent batches lock rows in the same order and cannot
    /// deadlock each other.
    static func writeCommissionLines(
        _ lines: [NewCommissionLine], batchID: String, overwrite: Bool,
        on connection: PostgresConnection, deadline: Deadline
    ) throws -> Set<String> {
        guard !lines.isEmpty else { return [] }
        let sorted = lines.sorted { $0.item.orderItemID < $1.item.orderItemID }
        let policies = sorted.map(\.resolution.appliedPolicy)
        let conflict = overwrite
            ? """
              ON CONFLICT (order_item_id) DO UPDATE SET
                  batch_id = EXCLUDED.batch_id, product_id = EXCLUDED.product_id, supplier_id = EXCLUDED.supplier_id,
                  seller_id = EXCLUDED.seller_id, seller_tier = EXCLUDED.seller_tier, line_amount = EXCLUDED.line_amount,
                  currency = EXCLUDED.currency, ordered_at = EXCLUDED.ordered_at, level = EXCLUDED.level,
                  commission_amount = EXCLUDED.commission_amount, policy_id = EXCLUDED.policy_id,
                  policy_code = EXCLUDED.policy_code, policy_version = EXCLUDED.policy_version,
                  policy_kind = EXCLUDED.policy_kind, commission_type = EXCLUDED.commission_type,
                  rate_ppm = EXCLUDED.rate_ppm, fixed_amount = EXCLUDED.fixed_amount,
                  policy_currency = EXCLUDED.policy_currency, min_commission = EXCLUDED.min_commission,
                  max_commission = EXCLUDED.max_commission, valid_from = EXCLUDED.valid_from,
                  valid_until = EXCLUDED.valid_until, recalculated_at = now()
              """
            : "ON CONFLICT (order_item_id) DO NOTHING"
        let rows = try connection.query(
            """
            INSERT INTO policy.commission_lines (
                order_item_id, batch_id, product_id, supplier_id, seller_id, seller_tier, line_amount, currency,
                ordered_at, level, commission_amount, policy_id, policy_code, policy_version, policy_kind,
                commission_type, rate_ppm, fixed_amount, policy_currency, min_commission, max_commission,
                valid_from, valid_until)
            SELECT u.order_item_id, $1, u.product_id, u.supplier_id, u.seller_id, u.seller_tier, u.line_amount, u.currency,
                   timestamptz 'epoch' + u.ordered_at * interval '1 microsecond', u.level, u.commission_amount,
                   u.policy_id::uuid, u.policy_code, u.policy_version, u.policy_kind, u.commission_type, u.rate_ppm,
                   u.fixed_amount, u.policy_currency, u.min_commission, u.max_commission,
                   timestamptz 'epoch' + u.valid_from * interval '1 microsecond',
                   timestamptz 'epoch' + u.valid_until * interval '1 microsecond'
              FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[],
                          $9::int8[], $10::text[], $11::int8[], $12::text[], $13::text[], $14::int8[], $15::text[],
                          $16::text[], $17::int8[], $18::int8[], $19::text[], $20::int8[], $21::int8[],
                          $22::int8[], $23::int8[])
                   AS u(order_item_id, product_id, supplier_id, seller_id, seller_tier, line_amount, currency,
                        ordered_at, level, commission_amount, policy_id, policy_code, policy_version, policy_kind,
                        commission_type, rate_ppm, fixed_amount, policy_currency, min_commission, max_commission,
                        valid_from, valid_until)
             ORDER BY u.order_item_id
            \(conflict)
            RETURNING order_item_id
            """,
            [
                .text(batchID),
                PostgresArrayLiteral.text(sorted.map(\.item.orderItemID)),
                PostgresArrayLiteral.text(sorted.map(\.item.productID)),
                PostgresArrayLiteral.text(sorted.map(\.item.supplierID)),
                PostgresArrayLiteral.text(sorted.map { $0.sellerID.isEmpty ? nil : $0.sellerID }),
                PostgresArrayLiteral.text(sorted.map(\.item.sellerTier)),
                PostgresArrayLiteral.int64(sorted.map { Optional($0.item.lineAmount.minorUnits) }),
                PostgresArrayLiteral.text(sorted.map(\.item.lineAmount.currency.code)),
                PostgresArrayLiteral.int64(sorted.map { Optional($0.item.orderedAt) }),
                PostgresArrayLiteral.text(sorted.map(\.resolution.level.rawValue)),
                PostgresArrayLiteral.int64(sorted.map { Optional($0.resolution.commission.minorUnits) }),
                PostgresArrayLiteral.text(policies.map { $0?.id }),
                PostgresArrayLiteral.text(policies.map { $0?.code }),
                PostgresArrayLiteral.int64(policies.map { $0?.version }),
                PostgresArrayLiteral.text(policies.map { $0?.kind.rawValue }),
                PostgresArrayLiteral.text(policies.map { $0?.commission.type.rawValue }),
                PostgresArrayLiteral.int64(policies.map { $0?.ratePPM }),
                PostgresArrayLiteral.int64(policies.map { $0?.fixedAmount }),
                PostgresArrayLiteral.text(policies.map { $0?.currency?.code }),
                PostgresArrayLiteral.int64(policies.map { $0?.minCommission?.minorUnits }),
                PostgresArrayLiteral.int64(policies.map { $0?.maxCommission?.minorUnits }),
                PostgresArrayLiteral.int64(policies.map { $0?.window.start }),
                PostgresArrayLiteral.int64(policies.map { $0?.window.end }),
            ],
            deadline: deadline
        )
        var written = Set<String>()
        written.reserveCapacity(rows.count)
        for row in rows { written.insert(try row.string(0)) }
        return written
    }
}
