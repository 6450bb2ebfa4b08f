/// A small left-aligned text table for list answers (inbox lists, batch
/// results, flags), in the style of `kubectl get`: upper-case headers, two
/// spaces between columns, `-` for empty cells.
struct OutputTable: Sendable {
    var columns: [String]
    var rows: [[String]] = []

    init(_ columns: String...) {
        self.columns = columns
    }

    /// Adds a row; missing cells print as `-`, extra cells are dropped.
    mutating func append(_ cells: [String]) {
        rows.append((0..<columns.count).map { index in
            index < cells.count && !cells[index].isEmpty ? cells[index] : "-"
        })
    }

    var text: String {
        let widths = columns.indices.map { column in
            rows.reduce(columns[column].count) { max($0, $1[column].count) }
        }
        func line(_ cells: [String]) -> String {
            var result = ""
            for (index, cell) in cells.enumerated() {
                let isLast = index == cells.count - 1
                result += isLast ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            return result
        }
        return ([line(columns.map { $0.uppercased() })] + rows.map(line)).joined(separator: "\n")
    }
}
