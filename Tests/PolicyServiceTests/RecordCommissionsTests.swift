import Foundation
import Proto
import Synchronization
import TestSupport
import Testing
import Wire

/// RecordCommissions: idempotent by order item id, frozen snapshots, all or nothing.
@Suite struct RecordCommissionsTests {
    typealias F = PolicyServiceFixture

    private func fixture() throws -> (PolicyServiceFixture, supplierPolicy: PolicyV1.Policy) {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: (0..<50).map { "prod-\($0)" })
        try fixture.create(F.percentage("DEFAULT-2025", .default, ppm: 100_000))
        let supplier = try fixture.create(F.percentage("SUPPLIER-X", .supplier, ppm: 150_000))
        try fixture.link(.supplier, "sup-x", to: supplier)
        return (fixture, supplier)
    }

    private func items(_ count: Int, prefix: String = "oi") -> [PolicyV1.OrderItem] {
        (0..<count).map { F.item("\(prefix)-\($0)", product: "prod-\($0 % 50)", amount: Int64(1_000 + $0)) }
    }

    @Test func firstRecordWritesLinesWithTheirSnapshot() throws {
        let (fixture, supplier) = try fixture()
        let lines = try fixture.record(items(3))
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.newlyWritten })
        #expect(lines.map(\.orderItemId) == ["oi-0", "oi-1", "oi-2"])
        #expect(lines[0].resolution?.commissionAmount == 150)
        #expect(lines[0].resolution?.level == .supplier)
        #expect(lines[0].resolution?.appliedPolicy?.policyId == supplier.id)
        #expect(lines[0].resolution?.appliedPolicy?.version == 1)
        #expect(lines[0].item?.supplierId == "sup-x")
        #expect(lines[0].batchId == "batch-1")
        #expect(try fixture.count("SELECT count(*) FROM policy.commission_lines") == 3)
    }

    @Test func repeatReturnsStoredLinesUnchanged() throws {
        let (fixture, _) = try fixture()
        let first = try fixture.record(items(5))
        let again = try fixture.record(items(5), batch: "batch-retry")
        #expect(again.allSatisfy { !$0.newlyWritten })
        #expect(again.map(\.resolution) == first.map(\.resolution))
        #expect(again.map(\.recordedAtUnixMicros) == first.map(\.recordedAtUnixMicros))
        #expect(again.allSatisfy { $0.batchId == "batch-1" })
    }

    @Test func concurrentRetriesStoreEachLineOnceWithOneSnapshot() throws {
        let (fixture, _) = try fixture()
        let batch = items(300)
        let outcomes = Mutex<[[PolicyV1.CommissionLine]]>([])
        let failures = Mutex<[String]>([])
        TestThreads.run(count: 12) { _ in
            do {
                let lines = try fixture.record(batch.shuffled())
                outcomes.withLock { $0.append(lines) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let all = outcomes.withLock { $0 }
        #expect(all.count == 12)
        #expect(try fixture.count("SELECT count(*) FROM policy.commission_lines") == 300)
        // Every call saw the same stored snapshot, and each line was newly written by exactly one call.
        var snapshots: [String: PolicyV1.Resolution] = [:]
        var writers: [String: Int] = [:]
        for lines in all {
            #expect(lines.count == 300)
            for line in lines {
                if let earlier = snapshots[line.orderItemId] { #expect(earlier == line.resolution) }
                snapshots[line.orderItemId] = line.resolution
                if line.newlyWritten { writers[line.orderItemId, default: 0] += 1 }
            }
        }
        #expect(writers.count == 300)
        #expect(writers.values.allSatisfy { $0 == 1 })
    }

    @Test func recordingAfterAPolicyEditKeepsTheOldSnapshotUntilRecalculated() throws {
        let (fixture, supplier) = try fixture()
        let batch = items(2)
        let first = try fixture.record(batch)
        let _: PolicyV1.PolicyResponse = try fixture.call(fixture.operatorClient, "UpdatePolicy", PolicyV1.UpdatePolicyRequest(
            policyId: supplier.id, expectedVersion: 1,
            terms: F.percentage("SUPPLIER-X", .supplier, ppm: 200_000), operatorId: "ops-bob"
        ))
        // Resolution sees the edit at once...
        #expect(try fixture.resolve(batch[0]).commissionAmount == 200)
        // ...but the recorded lines keep their frozen snapshot.
        let repeatLines = try fixture.record(batch)
        #expect(repeatLines.map(\.resolution) == first.map(\.resolution))
        #expect(repeatLines[0].resolution?.appliedPolicy?.version == 1)
        #expect(repeatLines[0].resolution?.commissionAmount == 150)
        // An explicit recalculation replaces them.
        let recalculated = try fixture.record(batch, batch: "batch-recalc", recalculate: true)
        #expect(recalculated.allSatisfy { $0.newlyWritten })
        #expect(recalculated[0].resolution?.commissionAmount == 200)
        #expect(recalculated[0].resolution?.appliedPolicy?.version == 2)
        #expect(recalculated[0].recalculatedAtUnixMicros > 0)
        #expect(recalculated[0].recordedAtUnixMicros == first[0].recordedAtUnixMicros)
        #expect(recalculated[0].batchId == "batch-recalc")
    }

    @Test func aFailingBatchWritesNothing() throws {
        let (fixture, _) = try fixture()
        var batch = items(20)
        batch[13].lineAmount = 0
        let error = rpcError { try fixture.record(batch) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("items[13].line_amount") == true)
        var unknown = items(20)
        unknown[7].productId = "prod-missing"
        let notFound = rpcError { try fixture.record(unknown) }
        #expect(notFound?.code == .notFound)
        #expect(notFound?.message.hasPrefix("items[7].product_id") == true)
        #expect(try fixture.count("SELECT count(*) FROM policy.commission_lines") == 0)
    }

    @Test func repeatWithADifferentItemIsRefused() throws {
        let (fixture, _) = try fixture()
        let batch = items(3)
        _ = try fixture.record(batch)
        var changed = items(4)
        changed[1].lineAmount = 99_999
        let error = rpcError { try fixture.record(changed) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.hasPrefix("items[1].line_amount") == true)
        // The new fourth item was not written either.
        #expect(try fixture.count("SELECT count(*) FROM policy.commission_lines") == 3)
    }

    @Test func tenThousandLineBatchIsRecordedInOneCallAndRepeatedCheaply() throws {
        let (fixture, _) = try fixture()
        let batch = items(10_000, prefix: "big")
        let first = try fixture.record(batch)
        #expect(first.count == 10_000)
        #expect(first.allSatisfy { $0.newlyWritten && $0.resolution?.level == .supplier })
        let again = try fixture.record(batch)
        #expect(again.allSatisfy { !$0.newlyWritten })
        #expect(again.map(\.resolution) == first.map(\.resolution))
        #expect(try fixture.count("SELECT count(*) FROM policy.commission_lines") == 10_000)
        #expect(try fixture.count("SELECT sum(commission_amount) FROM policy.commission_lines")
            == first.reduce(0) { $0 + ($1.resolution?.commissionAmount ?? 0) })
    }

    @Test func safeModeLinesAreRecordedWithoutSnapshot() throws {
        let fixture = try PolicyServiceFixture()
        try fixture.catalog(supplier: "sup-x", products: ["prod-x"])
        let lines = try fixture.record([F.item("oi-1", product: "prod-x")])
        #expect(lines.first?.resolution?.level == .safeMode)
        #expect(lines.first?.resolution?.appliedPolicy == nil)
        #expect(lines.first?.resolution?.failureReason == .noPolicyFound)
    }

    @Test func onlySettlementAndOperatorMayRecord() throws {
        let (fixture, _) = try fixture()
        let request = PolicyV1.RecordCommissionsRequest(batchId: "b", items: items(1))
        let error = rpcError {
            let _: PolicyV1.RecordCommissionsResponse = try fixture.call(fixture.checkout, "RecordCommissions", request)
        }
        #expect(error?.code == .permissionDenied)
        let missingBatch = rpcError { try fixture.record(items(1), batch: "") }
        #expect(missingBatch?.code == .invalidArgument)
        #expect(missingBatch?.message.hasPrefix("batch_id") == true)
    }
}
