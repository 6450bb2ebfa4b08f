/// Why migrating a component's schema was refused or failed.
///
/// The message always names the component and, where one is involved, the version and file.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// The category of failure. Extensible: new kinds may be added, so `switch` with a default.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The migrations directory could not be read.
        public static let unreadableDirectory = Kind("unreadableDirectory")
        /// A `.sql` file does not follow `NNNN_name.up.sql` / `NNNN_name.down.sql`.
        public static let invalidFileName = Kind("invalidFileName")
        /// Two files claim the same version, or a down file has no up file.
        public static let inconsistentFiles = Kind("inconsistentFiles")
        /// An applied migration's up file changed after it was applied.
        public static let checksumMismatch = Kind("checksumMismatch")
        /// An applied migration has no file any more (and is not newer than all files).
        public static let missingFile = Kind("missingFile")
        /// A pending migration is older than one already applied.
        public static let outOfOrder = Kind("outOfOrder")
        /// A migration's SQL failed; `underlying` has PostgreSQL's error.
        public static let migrationFailed = Kind("migrationFailed")
        /// Talking to PostgreSQL failed (lock, history table, connection); see `underlying`.
        public static let database = Kind("database")

        public var description: String { name }
    }

    /// What went wrong.
    public var kind: Kind
    /// The component whose migrations were being processed (e.g. `"policy"`).
    public var component: String
    /// The migration version concerned, if any.
    public var version: Int?
    /// The file concerned, if any (file name only).
    public var file: String?
    /// A human-readable explanation naming the rule that was broken.
    public var message: String
    /// The PostgreSQL error behind `.migrationFailed` and `.database`.
    public var underlying: PostgresError?

    /// Creates an error.
    public init(kind: Kind, component: String, version: Int? = nil, file: String? = nil, message: String, underlying: PostgresError? = nil) {
        self.kind = kind
        self.component = component
        self.version = version
        self.file = file
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        var text = "MigrationError(\(kind)) component \(component)"
        if let version { text += " version \(version)" }
        if let file { text += " file \(file)" }
        text += ": \(message)"
        if let underlying { text += " — \(underlying)" }
        return text
    }
}
