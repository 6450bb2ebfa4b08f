public import GateCore
public import Storage

/// Where the gate reads the truth: the authorization state InboxService
/// keeps per seller/product pair (schema `inbox`, owned by InboxService).
///
/// A small seam so the gate's logic does not know SQL; the PostgreSQL
/// implementation is ``PostgresAuthorizationStore``.
public protocol AuthorizationStore: Sendable {
    /// The current state of each pair, in the order given; a pair with no
    /// row is ``AuthorizationState/notRequested`` (version 0).
    ///
    /// - Throws: the storage error when PostgreSQL cannot answer before `deadline`.
    func states(of pairs: [AuthorizationPair], deadline: Deadline) throws -> [AuthorizationState]

    /// True when any authorization of the pair was in force at `orderTimeMicros`
    /// (approved at or before it, not revoked by then): the settlement stage's
    /// question, which the latest state alone cannot always answer.
    func wasAuthorized(_ pair: AuthorizationPair, atMicros orderTimeMicros: Int64, deadline: Deadline) throws -> Bool
}
