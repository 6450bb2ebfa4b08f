import Foundation

/// Reads a file named on the command line; `-` means standard input.
enum InputFile {
    static func read(_ path: String, option: String) throws(CLIError) -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(field: option, "cannot read \(path)")
        }
        return data
    }

    static func readText(_ path: String, option: String) throws(CLIError) -> String {
        let data = try read(path, option: option)
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError(field: option, "\(path) is not UTF-8 text")
        }
        return text
    }
}

/// Splits a comma-separated option value, dropping empty entries and spaces.
func commaSeparated(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
}
