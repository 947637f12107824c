extension String {
    /// The text's Unicode scalars as an array, the form the expression lexer and parser index.
    /// An ASCII text (nearly every expression) is copied byte for byte, without decoding UTF-8.
    var scalarArray: [Unicode.Scalar] {
        var text = self
        let ascii: [Unicode.Scalar]? = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return [Unicode.Scalar](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                for (i, byte) in bytes.enumerated() { (buffer.baseAddress! + i).initialize(to: Unicode.Scalar(byte)) }
                count = bytes.count
            }
        }
        return ascii ?? Array(unicodeScalars)
    }
}
