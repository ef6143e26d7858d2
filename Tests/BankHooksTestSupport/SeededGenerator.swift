/// SplitMix64: a seeded generator, so a failing input (a fuzz case, a jitter draw, a chaos run)
/// reproduces from its seed and index.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    public mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    public mutating func pick<T>(_ options: [T]) -> T { options[int(options.count)] }

    /// One to three mutations: bytes replaced, inserted, removed, cut short, digit runs and slices spliced in.
    public mutating func mutate(_ bytes: inout [UInt8], alphabet: [UInt8]) {
        for _ in 0..<(1 + int(3)) {
            let at = bytes.isEmpty ? 0 : int(bytes.count)
            switch int(7) {
            case 0 where !bytes.isEmpty: bytes[at] = pick(alphabet)
            case 1 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: next())
            case 2 where !bytes.isEmpty: bytes.remove(at: at)
            case 3: bytes.insert(pick(alphabet), at: at)
            case 4: bytes.removeSubrange(at...)
            case 5: bytes.insert(contentsOf: (0..<(1 + int(300))).map { _ in UInt8(ascii: "0") + UInt8(int(10)) }, at: at)
            default:
                guard !bytes.isEmpty else { continue }
                let length = min(bytes.count - at, 1 + int(24))
                bytes.insert(contentsOf: bytes[at..<at + length], at: int(bytes.count))
            }
        }
    }
}
