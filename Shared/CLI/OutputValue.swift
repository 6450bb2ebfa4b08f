import Proto

/// A response as the CLI shows it: a small tree rendered either as stable JSON
/// (`--json`, for scripts) or as aligned `key: value` lines (for people).
///
/// Built from any generated message by reflection (`init(reflecting:)`), so a
/// field added to a .proto shows up without touching the CLI. Keys are the
/// proto field names (snake_case) in declaration order.
indirect enum OutputValue: Equatable, Sendable {
    /// Fields in proto declaration order.
    case object([OutputField])
    case array([OutputValue])
    case string(String)
    case integer(Int64)
    case unsigned(UInt64)
    case bool(Bool)
    case null
    /// An `..._unix_micros` field. `raw` is what the wire carried (nil: an
    /// absent `Int64Value`), `instant` the moment it names (nil: none — a plain
    /// field holding 0 means "not yet" by the suite's convention).
    case time(raw: Int64?, instant: Int64?)

    /// Converts a generated message (or any value nested in one).
    init(reflecting value: Any) {
        self = Self.convert(value)
    }

    private static func convert(_ value: Any) -> OutputValue {
        switch value {
        case let text as String: return .string(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int64: return .integer(number)
        case let number as Int32: return .integer(Int64(number))
        case let number as Int: return .integer(Int64(number))
        case let number as UInt32: return .unsigned(UInt64(number))
        case let number as UInt64: return .unsigned(number)
        case let wrapped as PolicyV1.Int64Value: return .integer(wrapped.value)
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let inner = mirror.children.first else { return .null }
            return convert(inner.value)
        case .enum:
            return .string(enumName(value))
        case .collection, .set:
            return .array(mirror.children.map { convert($0.value) })
        case .struct, .class:
            return .object(mirror.children.compactMap { child -> OutputField? in
                guard let label = child.label else { return nil }
                return field(label: label, value: child.value)
            })
        default:
            return .string(String(describing: value))
        }
    }

    private static func field(label: String, value: Any) -> OutputField {
        let key = snakeCase(label)
        guard key.hasSuffix("_unix_micros") else { return OutputField(key, convert(value)) }
        switch convert(value) {
        case .integer(let micros):
            // A present `Int64Value` is a real bound even at 0; a plain 0 means none.
            let wrapped = Mirror(reflecting: value).displayStyle == .optional
            return OutputField(key, .time(raw: micros, instant: micros == 0 && !wrapped ? nil : micros))
        case .null:
            return OutputField(key, .time(raw: nil, instant: nil))
        case let other:
            return OutputField(key, other)
        }
    }

    /// `notRequested` → `NOT_REQUESTED`, the proto spelling minus the enum prefix.
    static func enumName(_ value: Any) -> String {
        snakeCase(String(describing: value)).uppercased()
    }

    /// `orderTimeUnixMicros` → `order_time_unix_micros`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                if !result.isEmpty { result.append("_") }
                result.append(contentsOf: character.lowercased())
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// The value of `key` when this is an object holding it.
    subscript(key: String) -> OutputValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }
}

/// One key of an `OutputValue.object`.
struct OutputField: Equatable, Sendable {
    var key: String
    var value: OutputValue

    init(_ key: String, _ value: OutputValue) {
        self.key = key
        self.value = value
    }
}

// MARK: - JSON

extension OutputValue {
    /// Stable JSON: keys in proto order, two-space indentation, times as both
    /// the wire's micros and ISO 8601 UTC (`created_at_unix_micros` plus
    /// `created_at`), enums by name, money as the integer minor units the wire
    /// carries beside its `currency` field.
    var json: String {
        var output = ""
        writeJSON(into: &output, indent: 0)
        return output
    }

    private func writeJSON(into output: inout String, indent: Int) {
        switch self {
        case .object(let fields):
            let entries = fields.flatMap { field -> [(String, OutputValue)] in
                guard case .time(let raw, let instant) = field.value else { return [(field.key, field.value)] }
                let isoKey = String(field.key.dropLast("_unix_micros".count))
                return [
                    (field.key, raw.map(OutputValue.integer) ?? .null),
                    (isoKey, instant.map { .string(Timestamp.iso8601(micros: $0)) } ?? .null),
                ]
            }
            guard !entries.isEmpty else { output += "{}"; return }
            output += "{\n"
            for (index, (key, value)) in entries.enumerated() {
                output += String(repeating: "  ", count: indent + 1) + Self.quoted(key) + ": "
                value.writeJSON(into: &output, indent: indent + 1)
                output += index == entries.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "}"
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += String(repeating: "  ", count: indent + 1)
                element.writeJSON(into: &output, indent: indent + 1)
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "]"
        case .string(let text): output += Self.quoted(text)
        case .integer(let number): output += String(number)
        case .unsigned(let number): output += String(number)
        case .bool(let flag): output += flag ? "true" : "false"
        case .null: output += "null"
        case .time(let raw, _): output += raw.map { String($0) } ?? "null"
        }
    }

    /// A JSON string literal (RFC 8259 escaping).
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

// MARK: - Human-readable text

extension OutputValue {
    /// Aligned `key: value` lines; nested messages indent, lists of messages
    /// become `-` items; times show as ISO 8601 UTC (`-` for none); empty
    /// strings show as `-` so columns never look shifted.
    var text: String {
        var lines: [String] = []
        switch self {
        case .object(let fields): Self.appendLines(fields, indent: "", into: &lines)
        case .array(let elements): Self.appendItems(elements, indent: "", into: &lines)
        default: lines.append(scalarText)
        }
        return lines.joined(separator: "\n")
    }

    /// The one-line spelling of a scalar (also used in tables).
    var scalarText: String {
        switch self {
        case .string(let text): text.isEmpty ? "-" : text
        case .integer(let number): String(number)
        case .unsigned(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .null: "-"
        case .time(_, let instant): instant.map(Timestamp.iso8601(micros:)) ?? "-"
        case .array(let elements): elements.isEmpty ? "-" : elements.map(\.scalarText).joined(separator: ", ")
        case .object: "{…}"
        }
    }

    private var isScalarLike: Bool {
        switch self {
        case .object: false
        case .array(let elements): elements.allSatisfy { if case .object = $0 { false } else { true } }
        default: true
        }
    }

    private static func displayKey(_ field: OutputField) -> String {
        if case .time = field.value, field.key.hasSuffix("_unix_micros") {
            return String(field.key.dropLast("_unix_micros".count))
        }
        return field.key
    }

    private static func appendLines(_ fields: [OutputField], indent: String, into lines: inout [String]) {
        let width = fields.filter(\.value.isScalarLike).map { displayKey($0).count }.max() ?? 0
        for field in fields {
            let key = displayKey(field)
            switch field.value {
            case .object(let nested):
                lines.append("\(indent)\(key):")
                appendLines(nested, indent: indent + "  ", into: &lines)
            case .array(let elements) where !field.value.isScalarLike:
                lines.append("\(indent)\(key):")
                appendItems(elements, indent: indent + "  ", into: &lines)
            default:
                lines.append("\(indent)\(key + ":")\(String(repeating: " ", count: width - key.count + 1))\(displayText(field))")
            }
        }
    }

    /// A scalar as people read it; rates also show as a percentage.
    private static func displayText(_ field: OutputField) -> String {
        if field.key == "rate_ppm", case .integer(let ppm) = field.value {
            return "\(ppm) (\(percent(ppm: ppm)) %)"
        }
        return field.value.scalarText
    }

    /// 125000 → `12.5`, exactly (1 ppm = 0.0001 %).
    static func percent(ppm: Int64) -> String {
        let whole = ppm / 10_000
        var fraction = String(abs(ppm % 10_000))
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }

    private static func appendItems(_ elements: [OutputValue], indent: String, into lines: inout [String]) {
        if elements.isEmpty { lines.append("\(indent)(none)") }
        for element in elements {
            var nested: [String] = []
            if case .object(let fields) = element {
                appendLines(fields, indent: "", into: &nested)
            } else {
                nested.append(element.scalarText)
            }
            for (index, line) in nested.enumerated() {
                lines.append(indent + (index == 0 ? "- " : "  ") + line)
            }
        }
    }
}
