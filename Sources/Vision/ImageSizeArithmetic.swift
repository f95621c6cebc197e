/// Overflow-checked size arithmetic for image buffers: every width * height * channels that
/// sizes an allocation goes through here, so an absurd size is an error, never a trap or a
/// wrapped-around small buffer.
enum ImageSizeArithmetic {
    /// The product of `factors`, or nil when one is negative or the product overflows `Int`.
    static func product(_ factors: Int...) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = value
        }
        return result
    }

    /// Bytes of a `width` x `height` image of `channels` 8-bit samples a pixel; nil on overflow.
    static func byteCount(width: Int, height: Int, channels: Int) -> Int? {
        product(width, height, channels)
    }

    /// Bytes of one PNG row of `width` pixels of `channels` samples of `bitDepth` bits (packed,
    /// rounded up to whole bytes); nil on overflow.
    static func rowBytes(width: Int, channels: Int, bitDepth: Int) -> Int? {
        guard let bits = product(width, channels, bitDepth) else { return nil }
        return bits / 8 + (bits % 8 == 0 ? 0 : 1)
    }
}
