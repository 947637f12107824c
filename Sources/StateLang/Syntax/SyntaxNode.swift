/// How a scalar was written, which decides how it is typed (`42` is a number, `'42'` a string).
public enum ScalarStyle: Sendable, Equatable {
    case plain
    case singleQuoted
    case doubleQuoted
    case literal
    case folded

    public var isQuoted: Bool { self == .singleQuoted || self == .doubleQuoted }
}

/// A scalar as written in the file.
public struct ScalarSyntax: Sendable, Equatable {
    /// The scalar's text after YAML unescaping.
    public var text: String
    public var style: ScalarStyle
    /// An explicit tag such as `!!str`, if any.
    public var tag: String?

    public init(text: String, style: ScalarStyle, tag: String? = nil) {
        self.text = text
        self.style = style
        self.tag = tag
    }

    /// The typed value under the YAML 1.2 core schema (which also types JSON correctly).
    public var value: JSONValue {
        if let text = knownString { return .string(text) }
        if let tag {
            switch tag {
            case "tag:yaml.org,2002:str": return .string(text)
            case "tag:yaml.org,2002:int": if let i = Int(text) { return .int(i) }
            case "tag:yaml.org,2002:float": if let d = Double(text) { return .double(d) }
            case "tag:yaml.org,2002:bool": if let b = ScalarSyntax.bool(text) { return .bool(b) }
            case "tag:yaml.org,2002:null": return .null
            default: break
            }
        }
        guard style == .plain else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        default: break
        }
        if let b = ScalarSyntax.bool(text) { return .bool(b) }
        if let i = ScalarSyntax.integer(text) { return .int(i) }
        if let d = ScalarSyntax.float(text) { return .double(d) }
        return .string(text)
    }

    /// The text, when the scalar is a string without typing it: untagged, and quoted or block
    /// style, or plain but unable to start a null, a bool or a number (most plain scalars are
    /// names and expressions). Nil when `value` must look further.
    var knownString: String? {
        guard tag == nil else { return nil }
        guard style == .plain else { return text }
        guard let first = text.utf8.first, !Self.mayStartTyped(first) else { return nil }
        return text
    }

    /// Whether a plain scalar starting with `byte` may be a null (`~`, `null`), a bool or a
    /// number (a digit, a sign, `.` of `.5` or `.inf`): see `value`.
    static func mayStartTyped(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
             UInt8(ascii: "f"), UInt8(ascii: "F"):
            true
        default:
            false
        }
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    static func integer(_ text: String) -> Int? {
        if let value = shortDecimal(text) { return value }
        var body = Substring(text)
        var negative = false
        if body.first == "-" || body.first == "+" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty else { return nil }
        let magnitude: Int?
        if body.hasPrefix("0x") {
            magnitude = Int(body.dropFirst(2), radix: 16)
        } else if body.hasPrefix("0o") {
            magnitude = Int(body.dropFirst(2), radix: 8)
        } else if body.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            magnitude = Int(body)
        } else {
            magnitude = nil
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// An optional sign and 1 to 18 ASCII digits (too few to overflow), read from the bytes;
    /// nil for anything else, which `integer` then reads the general way. Most integers of a
    /// workflow (`MaxAttempts: 3`) are like this, and reading them through `Substring` and
    /// `Int(_:)` cost a few percent of `validate`.
    private static func shortDecimal(_ text: String) -> Int? {
        let bytes = text.utf8
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard (1...18).contains(digits.count) else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    static func float(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // Only ASCII digits, signs, points and exponents, with at least one digit. (Checked on
        // bytes: every plain scalar of a document comes here, and Character sets cost.)
        var hasDigit = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): hasDigit = true
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): continue
            default: return nil
            }
        }
        guard hasDigit else { return nil }
        return Double(text)
    }
}

/// One `key: value` pair of a mapping, in file order.
public struct SyntaxEntry: Sendable {
    public var key: String
    public var keyRange: SourceRange
    public var value: SyntaxNode

    public init(key: String, keyRange: SourceRange, value: SyntaxNode) {
        self.key = key
        self.keyRange = keyRange
        self.value = value
    }
}

/// A YAML (or JSON) node with its exact place in the file. Mappings keep their order.
public struct SyntaxNode: Sendable {
    public indirect enum Kind: Sendable {
        case scalar(ScalarSyntax)
        case mapping([SyntaxEntry])
        case sequence([SyntaxNode])
    }

    public var kind: Kind
    public var range: SourceRange

    public init(_ kind: Kind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    /// A word for the node's kind in messages ("a string", "a map").
    public var kindDescription: String {
        switch kind {
        case .scalar(let s): s.value.kindDescription
        case .mapping: "a map"
        case .sequence: "a list"
        }
    }

    public var scalar: ScalarSyntax? { if case .scalar(let s) = kind { s } else { nil } }

    /// The node as plain JSON, dropping positions.
    public var jsonValue: JSONValue {
        switch kind {
        case .scalar(let s): return s.value
        case .sequence(let items): return .array(items.map(\.jsonValue))
        case .mapping(let entries):
            var object: [String: JSONValue] = [:]
            for entry in entries where object[entry.key] == nil { object[entry.key] = entry.value.jsonValue }
            return .object(object)
        }
    }
}
