import StateLang

/// One call of a shop operation, as the HTTP layer hands it to a ledger: the operation, the
/// saga headers and the JSON body (an object).
struct OperationRequest: Sendable, Equatable {
    var operation: ShopOperation
    /// `Idempotency-Key`: the first reply to a key is the reply to every repeat of it.
    var idempotencyKey: String
    /// `Saga-Instance`: correlates a compensation with its forward operation.
    var sagaInstance: String
    /// `Saga-State`, when sent; informational.
    var sagaState: String?
    var body: [String: JSONValue]

    init(
        operation: ShopOperation, idempotencyKey: String, sagaInstance: String, sagaState: String? = nil,
        body: [String: JSONValue]
    ) {
        self.operation = operation
        self.idempotencyKey = idempotencyKey
        self.sagaInstance = sagaInstance
        self.sagaState = sagaState
        self.body = body
    }

    /// A required integer field (a JSON number with no fractional part).
    func integer(_ field: String) throws(ShopRefusal) -> Int {
        guard let value = try optionalInteger(field) else {
            throw .badRequest("'\(operation)' needs the integer field '\(field)'")
        }
        return value
    }

    /// A required integer field that must be at least 1.
    func positiveInteger(_ field: String) throws(ShopRefusal) -> Int {
        let value = try integer(field)
        guard value > 0 else { throw .badRequest("'\(field)' must be at least 1, got \(value)") }
        return value
    }

    /// An integer field that may be absent or null.
    func optionalInteger(_ field: String) throws(ShopRefusal) -> Int? {
        switch body[field] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)? where value.rounded() == value && abs(value) < 9.0e15: return Int(value)
        case let other?: throw .badRequest("'\(field)' must be an integer, got \(other.kindDescription)")
        }
    }

    /// A required string field.
    func string(_ field: String) throws(ShopRefusal) -> String {
        guard let value = try optionalString(field) else {
            throw .badRequest("'\(operation)' needs the string field '\(field)'")
        }
        return value
    }

    /// A string field that may be absent or null.
    func optionalString(_ field: String) throws(ShopRefusal) -> String? {
        switch body[field] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .badRequest("'\(field)' must be a string, got \(other.kindDescription)")
        }
    }
}
