import Tensor

/// Reproducible draws for the segmentation data: the same recipe as Train's shuffles (Fisher-Yates
/// with an unbiased bounded draw on ``SeededGenerator``, splitmix64 seed mixing), so results do
/// not depend on the Swift version's `shuffle(using:)`.
enum SegmentationRandom {
    /// Combines two 64-bit values into one well-mixed seed (splitmix64 finaliser).
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        func finalise(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return finalise(finalise(a) ^ b)
    }

    /// Uniform in `0..<bound` (bound > 0) without modulo bias.
    static func below(_ bound: Int, using rng: inout SeededGenerator) -> Int {
        guard bound > 1 else { return 0 }
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let x = rng.next()
            if x < limit { return Int(x % b) }
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    static func unit(using rng: inout SeededGenerator) -> Double {
        Double(rng.next() >> 11) * 0x1p-53
    }

    static func shuffle<T>(_ values: inout [T], using rng: inout SeededGenerator) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            let j = below(i + 1, using: &rng)
            if j != i { values.swapAt(i, j) }
        }
    }

    /// The generator of sample `index` in `epoch` of a run seeded `seed`.
    static func sampleGenerator(seed: UInt64, epoch: Int, index: Int) -> SeededGenerator {
        SeededGenerator(seed: mix(mix(seed, UInt64(bitPattern: Int64(epoch)) &+ 0xA06), UInt64(bitPattern: Int64(index))))
    }
}
