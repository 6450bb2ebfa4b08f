public import GateCore
public import Storage

/// The gate's Redis tier: versioned authorization entries (GateCore's cache
/// contract) read on every check and filled after a PostgreSQL read.
public protocol AuthorizationCache: Sendable {
    /// The decoded entry of each key, in order; nil for a missing or
    /// unreadable entry (both are misses).
    func entries(forKeys keys: [String], deadline: Deadline) throws(RedisError) -> [AuthorizationState?]

    /// The same, with each entry's remaining lifetime in milliseconds when
    /// `withLifetimes` (nil: not asked, or unknown), so a local copy never
    /// outlives the entry it copied.
    func entries(
        forKeys keys: [String], withLifetimes: Bool, deadline: Deadline
    ) throws(RedisError) -> [(state: AuthorizationState, remainingMilliseconds: Int64?)?]

    /// Writes each entry through the compare-and-set script, which keeps any
    /// stored entry at least as new. Returns, per fill, whether it was written.
    func fill(_ fills: [AuthorizationCacheFill], deadline: Deadline) throws(RedisError) -> [Bool]
}

extension AuthorizationCacheFill {
    /// The `EVALSHA`/`EVAL` arguments after the script: numkeys, key, version, value, TTL.
    var scriptArguments: [String] {
        ["1", key, String(state.version), AuthorizationCacheEntry(state: state).encoded, String(max(1, ttlMilliseconds))]
    }
}

extension AuthorizationCache {
    /// Lifetimes unknown: ``entries(forKeys:deadline:)`` alone.
    public func entries(
        forKeys keys: [String], withLifetimes: Bool, deadline: Deadline
    ) throws(RedisError) -> [(state: AuthorizationState, remainingMilliseconds: Int64?)?] {
        try entries(forKeys: keys, deadline: deadline).map { $0.map { (state: $0, remainingMilliseconds: nil) } }
    }
}

/// ``AuthorizationCache`` on a ``RedisPool``: `GET` for one key, one `MGET`
/// per seller for several (keys of one seller share its hash tag, so each
/// `MGET` stays within one slot under Redis Cluster; checks of several
/// sellers, coalesced from different calls, pipeline their `MGET`s in one
/// round trip), and fills as pipelined `EVALSHA` of
/// ``AuthorizationCacheScript/compareAndSet`` with an `EVAL` fallback on
/// `NOSCRIPT` (Redis restarted or flushed its script cache).
public struct RedisAuthorizationCache: AuthorizationCache {
    /// The compare-and-set script every writer of `sa:v1:*` keys uses.
    public static let script = RedisScript(AuthorizationCacheScript.compareAndSet)

    private let pool: RedisPool

    /// Reads and writes through `pool`.
    public init(pool: RedisPool) {
        self.pool = pool
    }

    public func entries(forKeys keys: [String], deadline: Deadline) throws(RedisError) -> [AuthorizationState?] {
        try entries(forKeys: keys, withLifetimes: false, deadline: deadline).map { $0?.state }
    }

    /// With lifetimes, a `PTTL` per key goes in the same round trip.
    public func entries(
        forKeys keys: [String], withLifetimes lifetimes: Bool, deadline: Deadline
    ) throws(RedisError) -> [(state: AuthorizationState, remainingMilliseconds: Int64?)?] {
        if keys.isEmpty { return [] }
        var remaining = [Int64?](repeating: nil, count: keys.count)
        let reply = try withConnection(deadline: deadline) { (connection) throws(RedisError) in
            if keys.count == 1 && !lifetimes {
                return [try connection.command(["GET", keys[0]], deadline: deadline).throwingServerError()]
            }
            if keys.count == 1 {
                let replies = try connection.pipeline([RedisCommand(["GET", keys[0]]), RedisCommand(["PTTL", keys[0]])], deadline: deadline)
                remaining[0] = try replies[1].throwingServerError().integerValue
                return [try replies[0].throwingServerError()]
            }
            // Group by hash tag, keeping each group's keys in first-seen order.
            var groupOfTag: [Substring: Int] = [:]
            var groups: [[Int]] = []
            for (index, key) in keys.enumerated() {
                let tag = Self.hashTag(of: key)
                if let group = groupOfTag[tag] {
                    groups[group].append(index)
                } else {
                    groupOfTag[tag] = groups.count
                    groups.append([index])
                }
            }
            var commands = groups.map { RedisCommand(["MGET"] + $0.map { keys[$0] }) }
            if lifetimes { commands += keys.map { RedisCommand(["PTTL", $0]) } }
            let replies = try connection.pipeline(commands, deadline: deadline)
            if lifetimes {
                for (index, reply) in replies[groups.count...].enumerated() {
                    remaining[index] = try reply.throwingServerError().integerValue
                }
            }
            var values = [RedisReply](repeating: .null, count: keys.count)
            for (group, reply) in zip(groups, replies) {
                let reply = try reply.throwingServerError()
                guard let groupValues = reply.arrayValue, groupValues.count == group.count else {
                    throw RedisError(kind: .unexpectedReply, message: "MGET of \(group.count) keys answered \(reply)")
                }
                for (index, value) in zip(group, groupValues) { values[index] = value }
            }
            return values
        }
        return zip(reply, remaining).map { value, remaining in
            guard case .bytes(let bytes) = value, let state = AuthorizationCacheEntry(encodedBytes: bytes)?.state else { return nil }
            return (state: state, remainingMilliseconds: remaining)
        }
    }

    /// The Redis Cluster hash tag of `key`: the text inside its first `{...}`
    /// when non-empty, else the whole key (Redis's own rule).
    static func hashTag(of key: String) -> Substring {
        // Braces are ASCII: searching the UTF-8 bytes finds the same
        // positions as searching characters, without grapheme breaking.
        let utf8 = key.utf8
        guard let open = utf8.firstIndex(of: UInt8(ascii: "{")) else { return Substring(key) }
        let start = utf8.index(after: open)
        guard let close = utf8[start...].firstIndex(of: UInt8(ascii: "}")), close != start else { return Substring(key) }
        return key[start..<close]
    }

    public func fill(_ fills: [AuthorizationCacheFill], deadline: Deadline) throws(RedisError) -> [Bool] {
        if fills.isEmpty { return [] }
        let sha = Self.script.sha1
        var replies = try withConnection(deadline: deadline) { (connection) throws(RedisError) in
            try connection.pipeline(fills.map { RedisCommand(["EVALSHA", sha] + $0.scriptArguments) }, deadline: deadline)
        }
        let unknownScript = replies.indices.filter { replies[$0].errorMessage?.hasPrefix("NOSCRIPT") == true }
        if !unknownScript.isEmpty {
            // EVAL also caches the script again, so later fills are back on EVALSHA.
            let source = Self.script.source
            let retried = try withConnection(deadline: deadline) { (connection) throws(RedisError) in
                try connection.pipeline(
                    unknownScript.map { RedisCommand(["EVAL", source] + fills[$0].scriptArguments) }, deadline: deadline)
            }
            for (index, reply) in zip(unknownScript, retried) { replies[index] = reply }
        }
        return try replies.map { (reply) throws(RedisError) -> Bool in
            try reply.throwingServerError()
            // {written, sequence}: see AuthorizationCacheScript.compareAndSet.
            return reply.arrayValue?.first?.integerValue == 1
        }
    }

    private func withConnection<T>(deadline: Deadline, _ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        do {
            return try pool.withConnection(deadline: deadline) { connection in try body(connection) }
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(kind: .unexpectedReply, message: "\(error)")
        }
    }
}
