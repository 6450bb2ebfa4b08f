@testable import InboxService
import Storage
import TestSupport
import Testing

/// The database keeps enforcing the invariants migration 0003 lightened the
/// enforcement of (it dropped constraints other constraints imply, and
/// indexes nothing reads), and 0003 reverts and reapplies over live rows.
@Suite("Inbox schema after 0003_lighter_writes")
struct InboxSchemaTests {
    /// The constraints and index 0003 drops, as 0001 named them.
    static let droppedByLighterWrites = [
        "audit_events_from_status_check", "audit_events_to_status_check",
        "cache_outbox_version_check", "cache_outbox_state_check", "cache_outbox_pkey",
    ]

    @Test("audit rows with a status or transition outside the state machine are refused by the database")
    func auditRefusesIllegalTransitions() throws {
        let inbox = try InboxFixture()
        let row = try inbox.requested(inbox.seller(0), inbox.productA(0))
        // audit_events_legal_transition refuses them all, including NULL -> APPROVED, which 0001's
        // form of it (NULL, so passing, for a NULL from_status) and its status lists let through.
        let illegal: [(from: String?, to: String)] = [
            (nil, "APPROVED"), ("REQUESTED", "REVOKED"), ("APPROVED", "CANCELLED"),
            ("CANCELLED", "REVOKED"), ("REQUESTED", "BOGUS"), ("BOGUS", "REVOKED"), ("REVOKED", "REQUESTED"),
        ]
        for transition in illegal {
            let refusal = try inbox.postgres.withConnection { connection -> PostgresError? in
                do throws(PostgresError) {
                    _ = try connection.queryUnprepared(
                        """
                        INSERT INTO inbox.audit_events
                               (request_id, from_status, to_status, actor_role, actor_id, caller, reason, version, at)
                        VALUES ($1::uuid, $2::text, $3::text, 'supplier', 'x', 'supplier-portal', 'r', 1, now())
                        """, [.text(row.id), transition.from.map { .text($0) } ?? nil, .text(transition.to)])
                    return nil
                } catch {
                    return error
                }
            }
            #expect(refusal?.code == PostgresError.SQLState.checkViolation, "\(transition)")
            #expect(refusal?.constraint == "audit_events_legal_transition", "\(transition)")
        }
        #expect(try inbox.scalar("SELECT count(*) FROM inbox.audit_events") == 1)
    }

    @Test("0003 reverts and reapplies over existing rows, and the reads still find them by request")
    func lighterWritesRoundTrip() throws {
        let inbox = try InboxFixture()
        let approved = try inbox.requested(inbox.seller(0), inbox.productA(0))
        _ = try inbox.approve(approved.id, by: inbox.supplierA)
        let rejected = try inbox.requested(inbox.seller(1), inbox.productA(1))
        _ = try inbox.reject(rejected.id, by: inbox.supplierA, reason: "not now")
        let names = PostgresArrayLiteral.text(Self.droppedByLighterWrites)
        let present = {
            try inbox.scalar(
                """
                SELECT count(*) FROM pg_constraint
                 WHERE connamespace = 'inbox'::regnamespace AND conname = ANY ($1::text[])
                """, [names])
        }
        let auditKey = {
            try inbox.postgres.withConnection { connection in
                try connection.queryUnprepared(
                    """
                    SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                      FROM pg_index i
                      CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     WHERE i.indrelid = 'inbox.audit_events'::regclass AND i.indisprimary
                    """
                ).first?.string(0)
            }
        }
        #expect(try present() == 0)
        #expect(try auditKey() == "request_id,id")

        let component = InboxApplication.migrations
        let migrator = Migrator(
            component: component.name, directory: component.directory, logger: TestInfrastructure.logger("inbox-schema"))
        try inbox.postgres.withConnection { connection in
            let reverted = try migrator.migrateDown(to: 2, on: connection)
            #expect(reverted.map(\.version) == [3])
        }
        #expect(try present() == Int64(Self.droppedByLighterWrites.count))
        #expect(try auditKey() == "id")
        try inbox.postgres.withConnection { connection in
            let applied = try migrator.migrateUp(on: connection)
            #expect(applied.map(\.version) == [3])
        }
        #expect(try present() == 0)
        #expect(try auditKey() == "request_id,id")

        // The histories read through the new key, and the service still writes after the round trip.
        #expect(try inbox.get(approved.id, supplier: inbox.supplierA).events.map(\.toStatus) == [.requested, .approved])
        #expect(try inbox.get(rejected.id, supplier: inbox.supplierA).events.map(\.toStatus) == [.requested, .rejected])
        _ = try inbox.revoke(approved.id, by: inbox.supplierA)
        #expect(
            try inbox.get(approved.id, supplier: inbox.supplierA).events.map(\.toStatus) == [.requested, .approved, .revoked])
        #expect(try inbox.scalar("SELECT count(*) FROM inbox.cache_outbox") == 5)
    }
}
