/// Reproducible draws on ``SeededGenerator`` that every trainer shares (shuffles, splits,
/// augmentation): the same seed gives the same result on every platform and Swift version,
/// which the standard library's `shuffle(using:)` and `random(in:using:)` do not promise.
extension SeededGenerator {
    /// Two 64-bit values combined into one well-mixed seed (the splitmix64 finaliser, twice).
    public static func mixing(_ a: UInt64, _ b: UInt64) -> UInt64 {
        func finalise(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return finalise(finalise(a) ^ b)
    }

    /// Uniform in `0..<bound` without modulo bias (rejection sampling); 0 when `bound <= 1`.
    public mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let x = next()
            if x < limit { return Int(x % b) }
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Fisher-Yates shuffle with ``below(_:)``.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if j != i { values.swapAt(i, j) }
        }
    }
}
