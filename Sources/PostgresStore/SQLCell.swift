import PostgresNIO

/// One value to bind, encoded ahead of the statement that binds it.
///
/// A transition is encoded to cells on the calling task (the JSON text is the costly part), so
/// that the group-commit writer can put the rows of many transitions into one statement
/// (`PostgresBatchStatement`) or bind one transition's rows to the single-row statements of the
/// per-transition path, from the same encoding.
enum SQLCell: Sendable {
    case text(String?)
    case double(Double?)
    case int(Int?)
    case bool(Bool)

    /// The type a `VALUES` list casts its first row to, so that a column whose first cell is
    /// NULL (bound without a type) still gets the table column's type.
    var sqlType: String {
        switch self {
        case .text: "text"
        case .double: "float8"
        case .int: "int8"
        case .bool: "bool"
        }
    }
}

extension PostgresBindings {
    init(cells: [SQLCell]) {
        self.init(capacity: cells.count)
        for cell in cells { append(cell) }
    }

    mutating func append(_ cell: SQLCell) {
        switch cell {
        case .text(let value): append(value)
        case .double(let value): append(value)
        case .int(let value): append(value)
        case .bool(let value): append(value)
        }
    }
}
