import Storage

/// A separate PostgreSQL session that holds a lock inside an open transaction,
/// to make the service wait deterministically.
final class PostgresConnectionHolder {
    private let connection: PostgresConnection

    init(url: String) throws {
        connection = try PostgresConnection.connect(url: url, timeout: .seconds(5), applicationName: "policy-test-blocker")
    }

    /// Takes an exclusive lock on the links table, blocking every reader.
    func lockPolicyLinks() throws {
        try connection.simpleQuery("BEGIN; LOCK TABLE policy.policy_links IN ACCESS EXCLUSIVE MODE", deadline: .after(seconds: 5))
    }

    /// Ends the transaction, releasing the lock.
    func release() {
        _ = try? connection.simpleQuery("ROLLBACK", deadline: .after(seconds: 5))
    }
}
