/// Parses a generated proto enum from its name as the CLI prints it
/// (`NOT_REQUESTED`), case-insensitively, `-` standing for `_`. The
/// `UNSPECIFIED` zero value is never accepted: it means "absent" on the wire.
func parseProtoEnum<Value: CaseIterable>(_ text: String, field: String, as _: Value.Type = Value.self) throws(CLIError) -> Value {
    let wanted = text.trimmingWhitespace().uppercased().replacingOccurrences(of: "-", with: "_")
    let candidates = Value.allCases.filter { OutputValue.enumName($0) != "UNSPECIFIED" }
    if let match = candidates.first(where: { OutputValue.enumName($0) == wanted }) { return match }
    let names = candidates.map { OutputValue.enumName($0).lowercased() }.joined(separator: ", ")
    throw CLIError(field: field, "expected one of \(names), got \"\(text)\"")
}

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
