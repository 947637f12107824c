extension String {
    /// The text's Unicode scalars as an array, the form the expression lexer and parser index.
    /// An ASCII text (nearly every expression) is copied byte for byte, without decoding UTF-8.
    var scalarArray: [Unicode.Scalar] {
        var text = self
        let ascii: [Unicode.Scalar]? = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return [Unicode.Scalar](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                for (i, byte) in bytes.enumerated() { buffer[i] = Unicode.Scalar(byte) }
                count = bytes.count
            }
        }
        return ascii ?? Array(unicodeScalars)
    }
}

extension Array where Element == Unicode.Scalar {
    /// The scalars in `range` as a string. ASCII (nearly every token) is written byte for byte,
    /// without going through a scalar view.
    func string(_ range: Range<Int>) -> String {
        let slice = self[range]
        guard slice.allSatisfy(\.isASCII) else { return String(String.UnicodeScalarView(slice)) }
        return String(unsafeUninitializedCapacity: slice.count) { buffer in
            for (i, scalar) in slice.enumerated() { buffer[i] = UInt8(truncatingIfNeeded: scalar.value) }
            return slice.count
        }
    }
}
