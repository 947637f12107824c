import Testing
@testable import StateLang

/// The typing of plain scalars (YAML 1.2 core schema), including the shortcut that types a
/// scalar that cannot start a null, a bool or a number as a string at once.
@Suite("Scalar typing")
struct ScalarTypingTests {
    static let cases: [(String, JSONValue)] = [
        ("", .null), ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null),
        ("true", .bool(true)), ("True", .bool(true)), ("FALSE", .bool(false)),
        ("42", .int(42)), ("-7", .int(-7)), ("+3", .int(3)), ("0x1F", .int(31)), ("0o17", .int(15)),
        ("12.5", .double(12.5)), (".5", .double(0.5)), ("1e3", .double(1000)), ("-2.5E-1", .double(-0.25)),
        (".inf", .double(.infinity)), ("-.Inf", .double(-.infinity)), ("+.INF", .double(.infinity)),
        // Strings, some starting with a letter that a typed scalar may start with.
        ("nil", .string("nil")), ("nulls", .string("nulls")), ("truest", .string("truest")), ("f", .string("f")),
        ("e5", .string("e5")), ("E", .string("E")), ("ReserveStock", .string("ReserveStock")),
        ("$.[amount]", .string("$.[amount]")), ("#{1}", .string("#{1}")), ("_x", .string("_x")),
        ("1.2.3", .string("1.2.3")), ("-", .string("-")), (".", .string(".")), ("0xZZ", .string("0xZZ")),
        ("Ünïcode", .string("Ünïcode")), ("[a]", .string("[a]")),
    ]

    @Test("Plain scalars get their core-schema type", arguments: cases)
    func plain(_ text: String, _ expected: JSONValue) {
        #expect(ScalarSyntax(text: text, style: .plain).value == expected)
    }

    @Test("Quoted scalars are strings, whatever they look like")
    func quoted() {
        for text in ["42", "true", "null", "~", ".inf"] {
            #expect(ScalarSyntax(text: text, style: .doubleQuoted).value == .string(text))
            #expect(ScalarSyntax(text: text, style: .singleQuoted).value == .string(text))
        }
    }

    @Test("Every first byte that the shortcut sends to a string is one no typed scalar starts with")
    func shortcutIsSound() {
        for byte in UInt8(0)...UInt8(127) where !ScalarSyntax.mayStartTyped(byte) {
            let scalar = Character(Unicode.Scalar(byte))
            for rest in ["", "1", "0", ".5", "e3", "inf", "ull", "rue", "alse", "x1"] {
                let text = String(scalar) + rest
                #expect(ScalarSyntax.integer(text) == nil, "\(text)")
                #expect(ScalarSyntax.float(text) == nil, "\(text)")
                #expect(ScalarSyntax.bool(text) == nil, "\(text)")
                #expect(!["~", "null", "Null", "NULL"].contains(text), "\(text)")
            }
        }
    }

    @Test("Short decimals read from bytes agree with Int's parsing, up to and past 18 digits")
    func shortDecimals() {
        var texts = ["0", "-0", "+0", "007", "-007", "1", "-1", "+", "-", "", "1_000", "12a", "١٢", "1 ", " 1", "--1", "+-1"]
        for digits in 1...21 {
            let nines = String(repeating: "9", count: digits)
            texts += [nines, "-" + nines, "+" + nines, "1" + String(repeating: "0", count: digits - 1)]
        }
        texts += [String(Int.max), String(Int.min), "9223372036854775808", "-9223372036854775809"]
        for text in texts {
            // The general reading: an optional sign, then decimal digits only, through Int(_:).
            var body = Substring(text)
            var negative = false
            if body.first == "-" || body.first == "+" { negative = body.first == "-"; body = body.dropFirst() }
            let general = !body.isEmpty && body.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                ? Int(body).map { negative ? -$0 : $0 } : nil
            #expect(ScalarSyntax.integer(text) == general, "\(text)")
        }
    }
}
