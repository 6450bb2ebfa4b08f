import InboxCore
import Testing

@Suite struct InboxSortKeyTests {
    func id(_ last: UInt64) -> RequestID { RequestID(high: 0, low: last) }

    @Test func pendingComesBeforeDecidedWhateverTheAge() {
        let oldApproved = InboxSortKey(status: .approved, createdAtUnixMicros: 1, requestID: id(1))
        let newPending = InboxSortKey(status: .requested, createdAtUnixMicros: 1_000, requestID: id(2))
        #expect(newPending < oldApproved)
    }

    @Test func withinAGroupOldestComesFirstThenTheId() {
        let older = InboxSortKey(status: .requested, createdAtUnixMicros: 10, requestID: id(9))
        let newer = InboxSortKey(status: .requested, createdAtUnixMicros: 11, requestID: id(1))
        let sameTimeHigherID = InboxSortKey(status: .requested, createdAtUnixMicros: 10, requestID: id(10))
        #expect([newer, sameTimeHigherID, older].sorted() == [older, sameTimeHigherID, newer])
    }

    @Test func keysetPagesNeitherRepeatNorSkipWhenRowsArriveBetweenPages() {
        // Simulates the store: a page is the first N keys strictly after the cursor.
        var rows = (0..<10).map { InboxSortKey(status: .requested, createdAtUnixMicros: Int64($0), requestID: id(UInt64($0))) }
        func page(after cursor: InboxSortKey?, size: Int) -> [InboxSortKey] {
            Array(rows.sorted().filter { key in cursor.map { key > $0 } ?? true }.prefix(size))
        }
        let first = page(after: nil, size: 4)
        // New requests arrive while the client reads page one: they are newer,
        // so they sort after every existing pending row.
        rows += (10..<13).map { InboxSortKey(status: .requested, createdAtUnixMicros: Int64($0), requestID: id(UInt64($0))) }
        let second = page(after: first.last, size: 4)
        let third = page(after: second.last, size: 100)
        let seen = first + second + third
        #expect(Set(seen).count == seen.count)
        #expect(seen == rows.sorted())
    }
}
