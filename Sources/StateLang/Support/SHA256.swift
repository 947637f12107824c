/// SHA-256 (FIPS 180-4), for definition fingerprints. Small and dependency-free; not used for
/// anything secret.
public struct SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// The digest of `bytes` as 64 lower-case hex digits.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var message = Array(bytes)
        let bitLength = UInt64(message.count) * 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }

        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var w = [UInt32](repeating: 0, count: 64)
        // Through buffer pointers: the rounds index fixed-size arrays, and checking every index
        // took as long as the hashing itself.
        message.withUnsafeBufferPointer { message in
            k.withUnsafeBufferPointer { k in
                w.withUnsafeMutableBufferPointer { w in
                    h.withUnsafeMutableBufferPointer { h in
                        for chunk in stride(from: 0, to: message.count, by: 64) {
                            compress(message, chunk, k, w, h)
                        }
                    }
                }
            }
        }
        let digits = Array("0123456789abcdef")
        var out = ""
        for word in h {
            for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((word >> UInt32(shift)) & 0xF)]) }
        }
        return out
    }

    /// One 64-byte block of `message` at `chunk` into the state `h` (FIPS 180-4 §6.2.2).
    private static func compress(_ message: UnsafeBufferPointer<UInt8>, _ chunk: Int, _ k: UnsafeBufferPointer<UInt32>,
                                 _ w: UnsafeMutableBufferPointer<UInt32>, _ h: UnsafeMutableBufferPointer<UInt32>) {
        for i in 0..<16 {
            let j = chunk + i * 4
            w[i] = UInt32(message[j]) << 24 | UInt32(message[j + 1]) << 16 | UInt32(message[j + 2]) << 8 | UInt32(message[j + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
        h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}

extension SyntaxNode {
    /// A canonical text of the node that keeps mapping order (which matters for `Status` and
    /// `Choices`) and drops formatting, comments and positions: the input of fingerprints.
    /// Fingerprints name stored definitions, so this text must never change for a document.
    public var canonicalText: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// `canonicalText` as UTF-8, written as bytes (what SHA-256 reads) rather than as a string.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        // Iterative, so deep documents cannot overflow the stack: one frame per open
        // container, with the index of its next child.
        enum Open {
            case sequence([SyntaxNode], Int)
            case mapping([SyntaxEntry], Int)
        }
        var open: [Open] = []
        var next: SyntaxNode? = self
        while true {
            if let node = next {
                next = nil
                switch node.kind {
                case .scalar(let scalar): scalar.writeCanonical(to: &out)
                case .sequence(let items):
                    out.append(UInt8(ascii: "["))
                    open.append(.sequence(items, 0))
                case .mapping(let entries):
                    out.append(UInt8(ascii: "{"))
                    open.append(.mapping(entries, 0))
                }
            }
            guard let top = open.popLast() else { return out }
            switch top {
            case .sequence(let items, let index):
                guard index < items.count else { out.append(UInt8(ascii: "]")); continue }
                if index > 0 { out.append(UInt8(ascii: ",")) }
                next = items[index]
                open.append(.sequence(items, index + 1))
            case .mapping(let entries, let index):
                guard index < entries.count else { out.append(UInt8(ascii: "}")); continue }
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(entries[index].key, to: &out)
                out.append(UInt8(ascii: ":"))
                next = entries[index].value
                open.append(.mapping(entries, index + 1))
            }
        }
    }
}

extension ScalarSyntax {
    /// Appends the UTF-8 of `value.jsonString()`, writing a scalar known to be a string (most
    /// of them) straight into `out`.
    func writeCanonical(to out: inout [UInt8]) {
        if let text = knownString {
            JSONValue.writeString(text, to: &out)
        } else {
            out.append(contentsOf: value.jsonString().utf8)
        }
    }
}
