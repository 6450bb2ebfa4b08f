import PolicyCore
import Synchronization

/// Every policy and every supplier and tier link, indexed, as of one value of
/// `policy.change_counter`: what each call would otherwise load again.
///
/// Every call reads the counter in its catalog round trip (see
/// ``PolicyStore/lookUpCatalog(products:givenSuppliers:sellers:productLinks:on:deadline:)``)
/// and uses the cached set only when the value is the one it was loaded
/// under; any other value means a policy or link changed, and the call
/// reloads before resolving. An edit is therefore visible to every call that
/// starts after it commits, exactly as without the cache.
///
/// Size: one `Policy` per stored policy and one entry per supplier or tier
/// link (product links are not cached; they come with each batch).
final class PolicyCache: Sendable {
    /// A loaded set and the counter value read before loading it.
    struct Entry: Sendable {
        let changeCounter: Int64
        let policies: PolicySet
    }

    private let entry = Mutex<Entry?>(nil)

    /// Creates an empty cache: the first call loads.
    init() {}

    /// The cached set if it was loaded under `changeCounter`, else nil.
    func policies(at changeCounter: Int64) -> PolicySet? {
        entry.withLock { entry in
            guard let entry, entry.changeCounter == changeCounter else { return nil }
            return entry.policies
        }
    }

    /// Keeps `new` unless a set loaded under a higher counter is already
    /// cached (calls that reload concurrently may finish in any order).
    func store(_ new: Entry) {
        entry.withLock { entry in
            if let current = entry, current.changeCounter > new.changeCounter { return }
            entry = new
        }
    }
}
