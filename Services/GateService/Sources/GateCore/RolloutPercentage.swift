/// The share of products a percentage rollout enforces, 0 to 100 inclusive.
///
/// 0 enforces no product, 100 every product (the seed's full rollout).
public struct RolloutPercentage: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The percentage, always in `0...100`.
    public let value: Int

    /// No product is enforced.
    public static let none = RolloutPercentage(uncheckedValue: 0)
    /// Every product is enforced.
    public static let all = RolloutPercentage(uncheckedValue: 100)

    /// Returns nil outside `0...100`.
    public init?(_ value: Int) {
        guard (0...100).contains(value) else { return nil }
        self.value = value
    }

    private init(uncheckedValue: Int) { value = uncheckedValue }

    public static func < (lhs: RolloutPercentage, rhs: RolloutPercentage) -> Bool { lhs.value < rhs.value }

    /// `<value>%`.
    public var description: String { "\(value)%" }
}
