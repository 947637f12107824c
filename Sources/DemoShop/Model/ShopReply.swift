import StateLang

/// What a service answers: an HTTP status and a JSON object.
struct ShopReply: Sendable, Equatable {
    var status: Int
    var body: JSONValue

    init(status: Int, body: JSONValue) {
        self.status = status
        self.body = body
    }

    static func success(_ body: JSONValue) -> ShopReply { ShopReply(status: 200, body: body) }

    init(_ refusal: ShopRefusal) {
        self.init(status: refusal.status, body: ["error": .string(refusal.code), "message": .string(refusal.message)])
    }

    /// The `error` field of a refusal; nil for a success.
    var errorCode: String? { body["error"]?.stringValue }
}
