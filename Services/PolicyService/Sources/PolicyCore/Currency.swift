/// An ISO 4217 currency with the number of digits of its minor unit
/// (KRW and JPY 0, USD 2, KWD 3).
///
/// The three letters are packed into one integer so that ``Money`` is a
/// trivial value type: copying it in a hot loop involves no reference
/// counting, and comparing two currencies is one integer comparison.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    /// Letters in bits 0...23 (first letter lowest), never zero for a real code.
    private let packedCode: UInt32
    /// The number of decimal digits of the minor unit (0...3).
    public let minorUnitDigits: Int

    /// Looks up an upper-case ISO 4217 code such as `"USD"`.
    ///
    /// - Parameter field: the contract field named in the error, `currency` unless told.
    /// - Throws: ``PolicyError/Code/missingField`` for an empty code,
    ///   ``PolicyError/Code/unknownCurrency`` for anything not in the table.
    public init(code: String, field: String = "currency") throws(PolicyError) {
        if code.isEmpty {
            throw PolicyError(.missingField, field: field, "required ISO 4217 code")
        }
        guard let packed = Self.pack(code), let digits = Self.minorUnitDigitsByCode[packed] else {
            throw PolicyError(.unknownCurrency, field: field, "unknown ISO 4217 currency \"\(code.prefix(16))\"")
        }
        self.packedCode = packed
        self.minorUnitDigits = Int(digits)
    }

    /// The three-letter code, e.g. `"KRW"`.
    ///
    /// Built in place as a small (inline) string: responses read it once per
    /// line, so it must not allocate.
    public var code: String {
        String(unsafeUninitializedCapacity: 3) { buffer in
            buffer[0] = UInt8(truncatingIfNeeded: packedCode)
            buffer[1] = UInt8(truncatingIfNeeded: packedCode >> 8)
            buffer[2] = UInt8(truncatingIfNeeded: packedCode >> 16)
            return 3
        }
    }

    public var description: String { code }

    /// Packs exactly three ASCII upper-case letters; nil for anything else
    /// (lower case is refused rather than normalised: the contract says upper case).
    private static func pack(_ code: String) -> UInt32? {
        var packed: UInt32 = 0
        var count = 0
        for byte in code.utf8 {
            guard count < 3, byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") else { return nil }
            packed |= UInt32(byte) << (8 * UInt32(count))
            count += 1
        }
        return count == 3 ? packed : nil
    }

    /// ISO 4217 minor-unit digits of the currencies the platform may meet.
    /// Codes absent here are refused rather than guessed: a wrong digit count
    /// would misprice every line by a factor of ten or more.
    private static let minorUnitDigitsByCode: [UInt32: UInt8] = {
        let table: [(String, UInt8)] = [
            // 0 decimals
            ("BIF", 0), ("CLP", 0), ("DJF", 0), ("GNF", 0), ("ISK", 0), ("JPY", 0), ("KMF", 0),
            ("KRW", 0), ("PYG", 0), ("RWF", 0), ("UGX", 0), ("UYI", 0), ("VND", 0), ("VUV", 0),
            ("XAF", 0), ("XOF", 0), ("XPF", 0),
            // 3 decimals
            ("BHD", 3), ("IQD", 3), ("JOD", 3), ("KWD", 3), ("LYD", 3), ("OMR", 3), ("TND", 3),
            // 2 decimals
            ("AED", 2), ("ARS", 2), ("AUD", 2), ("BDT", 2), ("BGN", 2), ("BRL", 2), ("CAD", 2),
            ("CHF", 2), ("CNY", 2), ("COP", 2), ("CZK", 2), ("DKK", 2), ("EGP", 2), ("EUR", 2),
            ("GBP", 2), ("HKD", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("KES", 2),
            ("KZT", 2), ("MAD", 2), ("MXN", 2), ("MYR", 2), ("NGN", 2), ("NOK", 2), ("NZD", 2),
            ("PEN", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("QAR", 2), ("RON", 2), ("SAR", 2),
            ("SEK", 2), ("SGD", 2), ("THB", 2), ("TRY", 2), ("TWD", 2), ("UAH", 2), ("USD", 2),
            ("ZAR", 2),
        ]
        var byCode: [UInt32: UInt8] = [:]
        for (code, digits) in table {
            guard let packed = pack(code) else { preconditionFailure("malformed table entry \(code)") }
            byCode[packed] = digits
        }
        return byCode
    }()
}
